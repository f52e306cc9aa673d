package io.batchllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts special-token texts out of the input before the text is tokenized, as llama.cpp's
 * {@code tokenizer_st_partition} does. The candidates are all control, user-defined and unknown
 * tokens, longest text first; each in turn splits every remaining text fragment at its non-overlapping
 * occurrences, left to right. Without {@code parseSpecial} only user-defined tokens are cut out:
 * upstream (like HF tokenizers) always matches "added" tokens such as MPT's runs of spaces, while
 * control tokens like {@code <|eot_id|>} typed by a user stay plain text. A token with the LSTRIP or
 * RSTRIP attribute also swallows the ASCII whitespace before or after it. Immutable and thread safe.
 */
final class SpecialTokenSplitter {

    /** A piece of the input: a special token ({@code token >= 0}) or the text {@code [start, end)}. */
    record Fragment(int token, int start, int end) {
        static Fragment text(int start, int end) {
            return new Fragment(Vocabulary.NONE, start, end);
        }

        boolean isText() {
            return token == Vocabulary.NONE;
        }
    }

    private final Vocabulary vocab;
    private final int[] candidates;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        // Upstream sorts with std::sort (unstable) by length only; ties are broken by id here so the
        // order is at least deterministic. Equal-length special texts rarely overlap.
        this.candidates = IntStream.range(0, vocab.size())
                .filter(id -> vocab.has(id, Vocabulary.CONTROL | Vocabulary.USER_DEFINED | Vocabulary.UNKNOWN))
                .boxed()
                .sorted(Comparator.<Integer>comparingInt(id -> -vocab.text(id).length()).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.text(0, text.length()));
        for (int id : candidates) {
            if (!parseSpecial && vocab.has(id, Vocabulary.CONTROL | Vocabulary.UNKNOWN)) {
                continue;
            }
            String special = vocab.text(id);
            if (!text.contains(special)) {
                continue;
            }
            List<Fragment> next = new ArrayList<>(fragments.size() + 4);
            for (Fragment f : fragments) {
                if (f.isText()) {
                    cut(text, f.start(), f.end(), id, special, next);
                } else {
                    next.add(f);
                }
            }
            fragments = next;
        }
        return fragments;
    }

    private void cut(String text, int start, int end, int id, String special, List<Fragment> out) {
        int base = start;
        while (true) {
            int match = text.indexOf(special, base);
            if (match < 0 || match + special.length() > end) {
                if (base < end) {
                    out.add(Fragment.text(base, end));
                }
                return;
            }
            int leftEnd = match;
            if (vocab.has(id, Vocabulary.LSTRIP)) {
                while (leftEnd > base && isAsciiSpace(text.charAt(leftEnd - 1))) {
                    leftEnd--;
                }
            }
            if (leftEnd > base) {
                out.add(Fragment.text(base, leftEnd));
            }
            out.add(new Fragment(id, match, match + special.length()));
            base = match + special.length();
            if (vocab.has(id, Vocabulary.RSTRIP)) {
                while (base < end && isAsciiSpace(text.charAt(base))) {
                    base++;
                }
            }
        }
    }

    /** C {@code isspace} in the "C" locale, which upstream uses for LSTRIP/RSTRIP. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
