package io.batchllm.engine.grammar;

import java.util.Arrays;

/**
 * The tokens a grammar state allows, kept per state: as a bitset over the vocabulary when many are
 * allowed (inside a string nearly all are), as a sorted list of ids when few are (between JSON
 * values only a handful), so that a grammar's many structural states cost little memory.
 */
final class TokenMask {
    private final long[] dense;
    private final int[] sparse;
    private final int count;

    private TokenMask(long[] dense, int[] sparse, int count) {
        this.dense = dense;
        this.sparse = sparse;
        this.count = count;
    }

    /** The mask of bitset {@code words} holding {@code count} tokens, stored the smaller way. */
    static TokenMask of(long[] words, int count, int vocabSize) {
        // a list of ids is smaller than the bitset below vocab/32 ids
        if (count < vocabSize / 32) {
            int[] ids = new int[count];
            int n = 0;
            for (int w = 0; w < words.length; w++) {
                for (long bits = words[w]; bits != 0; bits &= bits - 1) {
                    ids[n++] = w << 6 | Long.numberOfTrailingZeros(bits);
                }
            }
            return new TokenMask(null, ids, count);
        }
        return new TokenMask(words.clone(), null, count);
    }

    /** Tokens allowed. */
    int count() {
        return count;
    }

    /** Writes the mask as a bitset into {@code words} (exactly as many words as the vocabulary needs). */
    void writeTo(long[] words) {
        if (dense != null) {
            System.arraycopy(dense, 0, words, 0, dense.length);
            return;
        }
        Arrays.fill(words, 0L);
        for (int id : sparse) {
            words[id >>> 6] |= 1L << (id & 63);
        }
    }

    /** Heap bytes it holds, roughly. */
    long bytes() {
        return 16 + (dense != null ? 8L * dense.length : 4L * sparse.length);
    }
}
