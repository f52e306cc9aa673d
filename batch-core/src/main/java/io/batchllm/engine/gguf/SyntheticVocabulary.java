package io.batchllm.engine.gguf;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A made-up SentencePiece vocabulary in llama's layout: {@code <unk>}, {@code <s>}, {@code </s>}, the
 * 256 byte-fallback tokens {@code <0x00>..<0xFF>}, then printable pieces ("▁", "▁a", "a", "▁the", "th",
 * ...) up to the requested size. Byte fallback means every text can be tokenized; the pieces make
 * ordinary English text come out as a realistic mix of word and sub-word tokens.
 */
final class SyntheticVocabulary {
    /** SentencePiece token types as llama.cpp stores them in {@code tokenizer.ggml.token_type}. */
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int BYTE = 6;
    /** Three special tokens and 256 byte tokens come before any piece. */
    static final int FIRST_PIECE = 259;

    private static final String SPACE = "\u2581";
    private static final String[] WORDS = {
        "the", "and", "to", "of", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
        "as", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "but", "what",
        "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how", "said",
        "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many", "then", "them",
        "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look",
        "more", "day", "could", "go", "come", "did", "my", "no", "most", "who", "over", "know", "water", "than",
        "call", "first", "people", "may", "down", "side", "been", "now", "find", "once", "upon", "little", "girl",
        "boy", "happy", "play", "friend", "big", "saw", "went", "dog", "cat", "tree", "sun", "story", "hello",
        "world", "user", "assistant", "system", "question", "answer",
    };

    final List<String> tokens;
    final float[] scores;
    final int[] types;

    private SyntheticVocabulary(List<String> tokens, float[] scores, int[] types) {
        this.tokens = tokens;
        this.scores = scores;
        this.types = types;
    }

    static SyntheticVocabulary ofSize(int size) {
        if (size < FIRST_PIECE + 1) {
            throw new IllegalArgumentException("vocabulary size " + size + " is too small: the special and byte tokens"
                    + " alone take " + FIRST_PIECE + "; use at least " + (FIRST_PIECE + 1));
        }
        List<String> tokens = new ArrayList<>(size);
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        Set<String> pieces = new LinkedHashSet<>();
        int wanted = size - FIRST_PIECE;
        addPieces(pieces, wanted);
        tokens.addAll(pieces);

        float[] scores = new float[size];
        int[] types = new int[size];
        types[0] = UNKNOWN;
        types[1] = CONTROL;
        types[2] = CONTROL;
        for (int i = 3; i < FIRST_PIECE; i++) {
            types[i] = BYTE;
        }
        // Earlier (shorter, commoner) pieces get higher scores, as SentencePiece ranks its merges.
        for (int i = FIRST_PIECE; i < size; i++) {
            types[i] = NORMAL;
            scores[i] = -(i - FIRST_PIECE);
        }
        return new SyntheticVocabulary(List.copyOf(tokens), scores, types);
    }

    private static void addPieces(Set<String> pieces, int wanted) {
        String letters = "abcdefghijklmnopqrstuvwxyz";
        String others = "0123456789.,!?'\"-:;()ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        add(pieces, wanted, SPACE);
        for (char c : letters.toCharArray()) {
            add(pieces, wanted, SPACE + c);
            add(pieces, wanted, String.valueOf(c));
        }
        for (char c : others.toCharArray()) {
            add(pieces, wanted, String.valueOf(c));
            add(pieces, wanted, SPACE + c);
        }
        for (String w : WORDS) {
            add(pieces, wanted, SPACE + w);
        }
        // Then every 2-, 3- and 4-letter piece, with and without a leading space: far more than any
        // vocabulary size in use (26^4 alone is 456976).
        for (int len = 2; len <= 4 && pieces.size() < wanted; len++) {
            int combos = (int) Math.pow(26, len);
            for (int n = 0; n < combos && pieces.size() < wanted; n++) {
                StringBuilder sb = new StringBuilder(len);
                for (int k = 0, v = n; k < len; k++, v /= 26) {
                    sb.append(letters.charAt(v % 26));
                }
                String piece = sb.reverse().toString();
                add(pieces, wanted, SPACE + piece);
                add(pieces, wanted, piece);
            }
        }
        if (pieces.size() < wanted) {
            throw new IllegalArgumentException("cannot make " + wanted + " distinct pieces");
        }
    }

    private static void add(Set<String> pieces, int wanted, String piece) {
        if (pieces.size() < wanted) {
            pieces.add(piece);
        }
    }
}
