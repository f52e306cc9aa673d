package io.batchllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PreTokenizerTest {

    private static final String MIXED = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～";

    private static PreTokenizer of(String pre) {
        return new PreTokenizer(PreTokenizerTable.lookup(pre).orElseThrow().regexes());
    }

    @Test
    void llama3SplitsLikeLlamaCppsLlama3Splitter() {
        // The word boundaries behind the ids in llama.cpp's (commented-out) llama-bpe expectations:
        // 9906 "Hello", 11 ",", 379 " y", 65948 "'all", 0 "!", …, 949 " ?", 9263 "131", 18136 "415", 16 "1".
        assertEquals(List.of("Hello", ",", " y", "'all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作",
                "131", "415", "1", "天", "～"), of("llama-bpe").split(MIXED));
        assertEquals(List.of("  ", " Hello"), of("llama-bpe").split("   Hello"));
        // 262 "   ", 22691 " Hello", 198 "\n", 262, 22691 upstream
        assertEquals(List.of("   ", " Hello", "\n", "   ", " Hello"), of("llama-bpe").split("    Hello\n    Hello"));
        assertEquals(List.of("\n\n\n"), of("llama-bpe").split("\n\n\n"));
        assertEquals(List.of("333", "333", "3"), of("llama-bpe").split("3333333"));
        assertEquals(List.of("'S", " it", "'LL"), of("llama-bpe").split("'S it'LL"), "contractions in either case");
    }

    @Test
    void qwen2SplitsDigitsOneByOne() {
        assertEquals(List.of("工作", "1", "3", "1", "4"), of("qwen2").split("工作1314"));
        assertEquals(List.of("Hello", ",", " world", "\n\n", "  ", " x"), of("qwen2").split("Hello, world\n\n   x"));
    }

    @Test
    void nonAsciiWhitespaceCountsAsWhitespaceAsInLlamaCpp() {
        // With Java's ASCII-only \s, the no-break spaces would be one punctuation-like word.
        assertEquals(List.of("a", "\u00A0", "\u00A0", "b"), of("gpt-2").split("a\u00A0\u00A0b"));
        assertEquals(List.of("a", "\u3000", "b"), of("gpt-2").split("a\u3000b"));
    }

    @Test
    void literalRangesDoNotMatchNonAsciiWhitespaceAsInLlamaCpp() {
        // deepseek-llm's punctuation class [!-/:-~...\u3000-\u3002] and CJK range [\u0800-\u4E00] both span
        // U+3000; llama.cpp matches on text whose non-ASCII whitespace became U+000B, so only \s+$ takes it.
        assertEquals(List.of("  \u3000"), of("deepseek-llm").split("  \u3000"));
        assertEquals(List.of("a", "\u2029\u2000 "), of("deepseek-llm").split("a\u2029\u2000 "));
        assertEquals(" a\u000Bb\u000B\u000B", PreTokenizer.withAsciiWhitespace(" a\u3000b\u00A0\u0085"));
    }

    @Test
    void translatorRewritesOnlyWhatJavaReadsDifferently() {
        assertEquals("\\p{IsWhite_Space}+(?!\\P{IsWhite_Space})", RegexTranslator.translate("\\s+(?!\\S)"));
        assertEquals("[^\\p{IsWhite_Space}\\p{L}]", RegexTranslator.translate("[^\\s\\p{L}]"));
        assertEquals("\\p{IsWhite_Space}+\\z", RegexTranslator.translate("\\s+$"));
        assertEquals("[$^]", RegexTranslator.translate("[$^]"), "'$' inside a class is literal");
        assertEquals("[a\\[b&\\&c]", RegexTranslator.translate("[a[b&&c]"), "ECMAScript takes these literally");
        assertEquals("\\$\\[", RegexTranslator.translate("\\$\\["), "escapes are kept");
    }

    static List<String> supported() {
        return List.copyOf(PreTokenizerTable.supportedNames());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("supported")
    void everySupportedPreTokenizerCompilesAndLosesNoText(String pre) {
        String text = MIXED + " \n\t ΑΒΓ déjà-vu ١٢٣ 3.14  $x+=1; нещо   ";
        List<String> words = of(pre).split(text);
        assertEquals(text, String.join("", words));
        assertTrue(words.stream().noneMatch(String::isEmpty));
    }
}
