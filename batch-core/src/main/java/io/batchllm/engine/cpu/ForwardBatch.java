package io.batchllm.engine.cpu;

import java.util.Arrays;

/**
 * The sequences of one forward step as {@link LlamaForward} reads them, filled from a step plan or from
 * the reference path's {@code StepInput}: per sequence its block table (not copied), the position of
 * its first token, its tokens in one shared array, and whether its last token's logits are wanted.
 * Reused from step to step; its arrays only grow. Not thread safe.
 */
final class ForwardBatch {
    private int size;
    private int[][] tables = new int[8][];
    private int[] positions = new int[8];
    private int[] from = new int[8];
    private int[] counts = new int[8];
    private boolean[] wantLogits = new boolean[8];
    private int[] tokens = new int[64];
    private int tokenCount;

    /** Empties the batch. */
    void clear() {
        Arrays.fill(tables, 0, size, null);
        size = 0;
        tokenCount = 0;
    }

    /** Adds a sequence; its tokens follow with {@link #token}. Returns its index. */
    int add(int[] table, int position, boolean logits) {
        if (size == tables.length) {
            int n = 2 * size;
            tables = Arrays.copyOf(tables, n);
            positions = Arrays.copyOf(positions, n);
            from = Arrays.copyOf(from, n);
            counts = Arrays.copyOf(counts, n);
            wantLogits = Arrays.copyOf(wantLogits, n);
        }
        tables[size] = table;
        positions[size] = position;
        from[size] = tokenCount;
        counts[size] = 0;
        wantLogits[size] = logits;
        return size++;
    }

    /** Appends a token to the sequence added last. */
    void token(int id) {
        if (tokenCount == tokens.length) {
            tokens = Arrays.copyOf(tokens, 2 * tokenCount);
        }
        tokens[tokenCount++] = id;
        counts[size - 1]++;
    }

    int size() {
        return size;
    }

    int tokenCount() {
        return tokenCount;
    }

    int[] table(int i) {
        return tables[i];
    }

    int position(int i) {
        return positions[i];
    }

    int count(int i) {
        return counts[i];
    }

    int token(int i, int t) {
        return tokens[from[i] + t];
    }

    boolean wantsLogits(int i) {
        return wantLogits[i];
    }
}
