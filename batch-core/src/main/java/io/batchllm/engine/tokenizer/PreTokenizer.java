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
 */
final class PreTokenizer {
    private final List<Pattern> patterns;

    PreTokenizer(List<String> llamaRegexes) {
        this.patterns = llamaRegexes.stream().map(RegexTranslator::compile).toList();
    }

    /** The words of {@code text}, in order; concatenated they give back {@code text}. */
    List<String> split(String text) {
        int[] bounds = {0, text.length()};
        int count = text.isEmpty() ? 0 : 1;
        for (Pattern pattern : patterns) {
            IntArrayBuilder next = new IntArrayBuilder(count * 2 + 8);
            next.add(0);
            Matcher m = pattern.matcher(text);
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
