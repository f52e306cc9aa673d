package io.batchllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE then encodes one by one, the way llama.cpp's
 * {@code unicode_regex_split} does: the first regex splits the whole text, each further regex splits
 * every fragment the previous one produced, and the text between matches is kept as fragments of its
 * own (nothing is dropped). Immutable and thread safe.
 *
 * <p>The regexes never see non-ASCII whitespace: llama.cpp replaces every such character (U+00A0,
 * U+3000, U+2000–U+200A, ...) by U+000B before matching, because {@code std::regex}'s {@code \s} knows
 * only ASCII whitespace. {@code \s} still matches there (U+000B is whitespace), but a literal range that
 * spans such a character no longer does: deepseek-llm's punctuation class {@code [　-。]} and its CJK range
 * {@code [ࠀ-一]} do not match U+3000 in llama.cpp. The words are cut from the original text.
 */
final class PreTokenizer {
    private final List<Pattern> patterns;

    PreTokenizer(List<String> llamaRegexes) {
        this.patterns = llamaRegexes.stream().map(RegexTranslator::compile).toList();
    }

    /** The words of {@code text}, in order; concatenated they give back {@code text}. */
    List<String> split(String text) {
        String matched = withAsciiWhitespace(text);
        int[] bounds = {0, text.length()};
        int count = text.isEmpty() ? 0 : 1;
        for (Pattern pattern : patterns) {
            IntArrayBuilder next = new IntArrayBuilder(count * 2 + 8);
            next.add(0);
            Matcher m = pattern.matcher(matched);
            for (int f = 0; f < count; f++) {
                splitFragment(m, bounds[f], bounds[f + 1], next);
            }
            bounds = next.toArray();
            count = bounds.length - 1;
        }
        List<String> words = new ArrayList<>(count);
        for (int f = 0; f < count; f++) {
            words.add(text.substring(bounds[f], bounds[f + 1]));
        }
        return words;
    }

    /**
     * The text with each non-ASCII White_Space character (llama.cpp's {@code unicode_set_whitespace})
     * replaced by U+000B. All of them are single UTF-16 units, so offsets stay the same.
     */
    static String withAsciiWhitespace(String text) {
        char[] chars = null;
        for (int i = 0; i < text.length(); i++) {
            if (isNonAsciiWhitespace(text.charAt(i))) {
                if (chars == null) {
                    chars = text.toCharArray();
                }
                chars[i] = '\u000B';
            }
        }
        return chars == null ? text : new String(chars);
    }

    private static boolean isNonAsciiWhitespace(char c) {
        return c == '\u0085' || c == '\u00A0' || c == '\u1680' || c >= '\u2000' && c <= '\u200A'
                || c == '\u2028' || c == '\u2029' || c == '\u202F' || c == '\u205F' || c == '\u3000';
    }

    /**
     * Appends the end offsets of the pieces of {@code [start, end)}. The region's default opaque bounds
     * keep lookaheads such as {@code (?!\S)} from seeing past the fragment, as std::regex_iterator does
     * over a sub-range.
     */
    private static void splitFragment(Matcher m, int start, int end, IntArrayBuilder ends) {
        m.region(start, end);
        int last = start;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue; // none of the table's regexes can match empty; never emit empty words
            }
            if (m.start() > last) {
                ends.add(m.start());
            }
            ends.add(m.end());
            last = m.end();
        }
        if (last < end) {
            ends.add(end);
        }
    }
}
