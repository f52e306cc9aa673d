package io.batchllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Regex grammars match what {@code java.util.regex} matches (the oracle), and refuse what they cannot do. */
class RegexGrammarTest {
    private static final String ALPHABET = "ab01xyz -_.é\n/\"";

    @ParameterizedTest
    @ValueSource(strings = {"a+b*", "(ab|xy)+z?", "[a-z]{2,4}", "x{3}", "[^ab]*", "\\d+(\\.\\d{1,2})?", "\\w+ \\w+",
            "(?:a|b)(?<n>x|y){0,2}", ".*", "[0-9a-f]+", "é|/|\"", "[\\-_.]+", "a{2,}", "\\s?x\\S", "^ab$",
            "(a|)b", "[\\w.]+", "(x(y(z)?)?)+"})
    void aTextIsAcceptedExactlyWhenJavaRegexMatchesIt(String pattern) {
        Grammar grammar = Grammars.regex(pattern);
        Pattern java = Pattern.compile(pattern);
        SplittableRandom random = new SplittableRandom(pattern.hashCode());
        int matches = 0;
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(7);
            for (int k = 0; k < length; k++) {
                sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            String text = sb.toString();
            boolean expected = java.matcher(text).matches();
            assertEquals(expected, GrammarTesting.accepts(grammar, text), "\"" + text + "\" against " + pattern);
            matches += expected ? 1 : 0;
        }
        for (String text : GrammarTesting.samples(grammar, 3, 200, 200, 0.3)) {
            assertTrue(java.matcher(text).matches(), "generated \"" + text + "\" for " + pattern);
            matches++;
        }
        assertTrue(matches >= 200, "enough matching texts were checked: " + matches);
    }

    @Test
    void unsupportedConstructsAreRefusedByName() {
        assertRefused("a(?=b)", "lookaround (?=…) at character 1");
        assertRefused("(a)\\1", "a backreference \\1");
        assertRefused("\\bword", "a word boundary \\b");
        assertRefused("\\p{L}+", "a Unicode property class \\p{…}");
        assertRefused("(?i)abc", "the group kind (?i");
        assertRefused("a*+", "a possessive quantifier");
        assertRefused("a|^b", "^ or $ inside the pattern");
        assertRefused("a{2", "a { that does not start a repetition");
        assertRefused("[a-z", "a [ without its ]");
        assertRefused("(ab", "a ( without its )");
        assertRefused("ab)", "an unmatched )");
        assertRefused("[[a]]", "a [ inside a class");
        assertRefused("*a", "a quantifier * with nothing to repeat");
        assertRefused("a{5,2}", "whose maximum is below its minimum");
    }

    private static void assertRefused(String pattern, String expected) {
        GrammarException e = assertThrows(GrammarException.class, () -> Grammars.regex(pattern));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aChoiceIsExactlyOneOfItsOptions() {
        Grammar g = Grammars.choice(java.util.List.of("positive", "negative", "neutral", "pos"));
        for (String s : new String[] {"positive", "negative", "neutral", "pos"}) {
            assertTrue(GrammarTesting.accepts(g, s), s);
        }
        for (String s : new String[] {"", "posi", "positive ", "Neutral", "negativeneutral"}) {
            assertTrue(!GrammarTesting.accepts(g, s), s);
        }
    }
}
