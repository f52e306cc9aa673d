package io.batchllm.engine.kv;

import java.util.Arrays;

/**
 * One sequence's blocks in a {@link KvBlockPool}: its block table, which starts with the blocks of the
 * positions it computes at once (its prompt) and grows as it generates ({@link KvBlockPool#grow}),
 * and how many leading prompt tokens it found already computed in shared prefix blocks.
 *
 * <p>Created by {@link KvBlockPool#allocate}, ended by {@link KvBlockPool#release}. Used by the
 * scheduler thread only, like its pool.
 */
public final class KvSequence {
    private int[] blockTable;
    private int blockCount;
    private final int cachedTokens;
    /** Blocks from here on may still need marking as computed (see {@link KvBlockPool#computed}). */
    int computeCursor;
    /** One past the last block whose tokens are all prompt tokens, so that it may be shared. */
    final int shareableEnd;
    boolean released;

    KvSequence(int[] blockTable, int cachedBlocks, int blockSize, int shareableEnd) {
        this.blockTable = blockTable;
        this.blockCount = blockTable.length;
        this.cachedTokens = cachedBlocks * blockSize;
        this.computeCursor = cachedBlocks;
        this.shareableEnd = shareableEnd;
    }

    /** The blocks of this sequence, in position order (a copy). */
    public int[] blockTable() {
        return Arrays.copyOf(blockTable, blockCount);
    }

    /** Blocks held. */
    public int blockCount() {
        return blockCount;
    }

    /** Block table entry {@code i}, without copying the table. */
    public int block(int i) {
        if (i >= blockCount) {
            throw new IndexOutOfBoundsException("block " + i + " of a table of " + blockCount);
        }
        return blockTable[i];
    }

    void append(int block) {
        if (blockCount == blockTable.length) {
            blockTable = Arrays.copyOf(blockTable, Math.max(4, 2 * blockCount));
        }
        blockTable[blockCount++] = block;
    }

    /**
     * Leading prompt tokens whose K and V were found in shared blocks: the sequence's first step starts
     * at this position. Always a multiple of the block size, and less than the positions it computes
     * (the last one always runs, for its logits).
     */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Whether {@link KvBlockPool#release} has been called. */
    public boolean isReleased() {
        return released;
    }
}
