package io.batchllm.engine.cpu;

import io.batchllm.engine.model.KvLayout;

/**
 * The paged KV cache's storage on the heap: per layer, one F32 array for K and one for V of
 * {@code blockCount × blockSize × kvDim} floats, reserved once. Slot {@code s = block × blockSize +
 * p % blockSize} holds position {@code p}'s V (all KV heads, contiguous) at {@code s × kvDim}.
 *
 * <p>K is stored transposed inside each block: the block's {@code blockSize × kvDim} floats (same
 * region as for V) hold, per KV head {@code h} and dimension {@code d}, one row of {@code blockSize}
 * floats, position {@code p % blockSize} at {@link #keyRow}{@code (block, blockSize, kvDim, h, headDim) +
 * d × blockSize + p % blockSize}. Attention then reads dimension {@code d} of a run of consecutive positions as one
 * vector and scores many positions at once without summing lanes.
 *
 * <p>Blocks are fixed regions of these arrays, so a block freed by one sequence is reused by the next
 * without any allocation, and two sequences sharing a prefix read the same floats.
 */
final class CpuKvStore {
    private final KvLayout layout;
    private final int kvDim;
    private final float[][] keys;
    private final float[][] values;

    CpuKvStore(KvLayout layout, int layers, int kvDim) {
        long floats = layout.tokens() * kvDim;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + layout.tokens() + " tokens needs " + floats
                    + " floats per layer, more than a Java array holds (" + (Integer.MAX_VALUE - 8)
                    + "); lower kv_cache_tokens to at most " + (Integer.MAX_VALUE - 8) / kvDim);
        }
        this.layout = layout;
        this.kvDim = kvDim;
        this.keys = new float[layers][(int) floats];
        this.values = new float[layers][(int) floats];
    }

    KvLayout layout() {
        return layout;
    }

    /**
     * Where the K rows of KV head {@code head} of a block start: the block's region begins at
     * {@code block × blockSize × kvDim}, and each head takes {@code headDim} rows of {@code blockSize}
     * floats (dimension {@code d}'s row at {@code + d × blockSize}).
     */
    static int keyRow(int block, int blockSize, int kvDim, int head, int headDim) {
        return (block * blockSize * kvDim) + head * headDim * blockSize;
    }

    /** Layer {@code l}'s keys, transposed per block (see {@link #keyRow}). */
    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    int kvDim() {
        return kvDim;
    }

    /** Bytes per token position: K and V, every layer, F32. */
    static long bytesPerToken(int layers, int kvDim) {
        return 2L * layers * kvDim * Float.BYTES;
    }
}
