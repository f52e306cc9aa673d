package io.batchllm.engine.tokenizer;

import java.util.regex.Pattern;

/**
 * Turns one of llama.cpp's pre-tokenizer regexes into a {@link Pattern} that splits text the same way.
 *
 * <p>llama.cpp runs these regexes with C++ {@code std::regex} (ECMAScript flavour), after a trick: when
 * the regex uses {@code \p{L}}-style categories, every non-ASCII code point of the text is first
 * "collapsed" to one byte standing for its Unicode category, and {@code \p{X}} is rewritten to a class
 * of that byte plus the ASCII members of the category. Whitespace outside ASCII is collapsed to
 * {@code \x0B}, which {@code \s} matches. The net effect is plain Unicode-category matching, which
 * Java's regex engine does natively: {@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{M}},
 * {@code \p{S}} are general categories in Java too, and Java's backtracking, leftmost-first alternation
 * is the same as ECMAScript's. What does differ, and is rewritten here:
 * <ul>
 *   <li>{@code \s}/{@code \S}: Java's default {@code \s} is ASCII only, llama.cpp's is the Unicode
 *       White_Space set (its {@code unicode_set_whitespace} is generated from that property, e.g.
 *       U+00A0, U+3000). We substitute {@code \p{IsWhite_Space}} / {@code \P{IsWhite_Space}}.</li>
 *   <li>{@code $} (outside a class): ECMAScript matches only at the end of the input; Java's also
 *       matches before a final line terminator. We substitute {@code \z}.</li>
 *   <li>inside a character class, ECMAScript takes {@code [} and {@code &&} literally; Java would
 *       start a nested class or an intersection, so they are escaped.</li>
 * </ul>
 * Case-insensitive groups {@code (?i:'s|'t...)} never reach us: llama.cpp already rewrote them to
 * {@code (?:'[sS]|'[tT]...)} because std::regex lacks inline flags, and we keep that ASCII-only form on
 * purpose (Java's Unicode-aware {@code (?i)} would also match U+017F for "s"). Possessive quantifiers
 * of the upstream HF regexes were likewise already turned into greedy ones by llama.cpp.
 *
 * <p>Each pattern is applied by {@link PreTokenizer} to one fragment at a time with opaque region
 * bounds, so {@code (?!\S)} cannot look past the fragment, exactly like std::regex_iterator over a
 * sub-range.
 */
final class RegexTranslator {
    private static final String WHITE_SPACE = "\\p{IsWhite_Space}";
    private static final String NOT_WHITE_SPACE = "\\P{IsWhite_Space}";

    private RegexTranslator() {
    }

    static Pattern compile(String llamaRegex) {
        return Pattern.compile(translate(llamaRegex));
    }

    static String translate(String re) {
        StringBuilder out = new StringBuilder(re.length() + 32);
        boolean inClass = false;
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length()) {
                char n = re.charAt(++i);
                switch (n) {
                    case 's' -> out.append(WHITE_SPACE);
                    case 'S' -> out.append(NOT_WHITE_SPACE);
                    default -> out.append(c).append(n);
                }
                continue;
            }
            if (inClass) {
                if (c == ']') {
                    inClass = false;
                    out.append(c);
                } else if (c == '[') {
                    out.append("\\[");
                } else if (c == '&' && i + 1 < re.length() && re.charAt(i + 1) == '&') {
                    out.append("&\\&");
                    i++;
                } else {
                    out.append(c);
                }
                continue;
            }
            if (c == '[') {
                inClass = true;
                out.append(c);
            } else if (c == '$') {
                out.append("\\z");
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
