package io.batchllm.engine.sampling;

import java.util.Arrays;

/**
 * How often each token occurred in a sequence, for the penalties: the distinct tokens in order of
 * first occurrence with their counts, found through an open-addressing hash of primitive ints, so
 * counting a token never boxes or allocates once the table has grown to the sequence's vocabulary.
 * Not thread safe: one per sequence.
 */
final class TokenCounts {
    private static final int EMPTY = -1;

    private int[] tokens = new int[16];
    private int[] counts = new int[16];
    private int size;
    /** Index into {@link #tokens} per hash slot, {@link #EMPTY} where free; its length is a power of two. */
    private int[] table = emptyTable(32);

    /** Counts one more occurrence of {@code token} (at least 0). */
    void add(int token) {
        int slot = find(token);
        int at = table[slot];
        if (at != EMPTY) {
            counts[at]++;
            return;
        }
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, 2 * size);
            counts = Arrays.copyOf(counts, 2 * size);
        }
        tokens[size] = token;
        counts[size] = 1;
        table[slot] = size++;
        if (2 * size > table.length) {
            rehash();
        }
    }

    /** Counts every token of {@code source}. */
    void addAll(int[] source) {
        for (int token : source) {
            add(token);
        }
    }

    /** Distinct tokens counted. */
    int size() {
        return size;
    }

    /** The {@code i}-th distinct token, in order of first occurrence. */
    int token(int i) {
        return tokens[i];
    }

    /** How often the {@code i}-th distinct token occurred. */
    int count(int i) {
        return counts[i];
    }

    /** How often {@code token} occurred (0 if never). */
    int countOf(int token) {
        int at = table[find(token)];
        return at == EMPTY ? 0 : counts[at];
    }

    private int find(int token) {
        int mask = table.length - 1;
        // Fibonacci hashing spreads the small, clustered ids of a vocabulary over the table
        int slot = (token * 0x9E3779B9) >>> 1 & mask;
        while (table[slot] != EMPTY && tokens[table[slot]] != token) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private void rehash() {
        table = emptyTable(2 * table.length);
        for (int i = 0; i < size; i++) {
            table[find(tokens[i])] = i;
        }
    }

    private static int[] emptyTable(int length) {
        int[] t = new int[length];
        Arrays.fill(t, EMPTY);
        return t;
    }
}
