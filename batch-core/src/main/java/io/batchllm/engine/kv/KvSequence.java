package io.batchllm.engine.kv;

/**
 * One sequence's reservation in a {@link KvBlockPool}: its block table, reserved in full when the
 * sequence was admitted (prompt plus the most tokens it may generate), and how many leading prompt
 * tokens it found already computed in shared prefix blocks.
 *
 * <p>Created by {@link KvBlockPool#allocate}, ended by {@link KvBlockPool#release}. Used by the
 * scheduler thread only, like its pool.
 */
public final class KvSequence {
    private final int[] blockTable;
    private final int cachedTokens;
    /** Blocks from here on may still need marking as computed (see {@link KvBlockPool#computed}). */
    int computeCursor;
    /** One past the last block whose tokens are all prompt tokens, so that it may be shared. */
    final int shareableEnd;
    boolean released;

    KvSequence(int[] blockTable, int cachedBlocks, int blockSize, int shareableEnd) {
        this.blockTable = blockTable;
        this.cachedTokens = cachedBlocks * blockSize;
        this.computeCursor = cachedBlocks;
        this.shareableEnd = shareableEnd;
    }

    /** The blocks reserved for this sequence, in position order (a copy). */
    public int[] blockTable() {
        return blockTable.clone();
    }

    /** Blocks reserved. */
    public int blockCount() {
        return blockTable.length;
    }

    int block(int i) {
        return blockTable[i];
    }

    /**
     * Leading prompt tokens whose K and V were found in shared blocks: the sequence's first step starts
     * at this position. Always a multiple of the block size, and less than the prompt's length (the
     * last prompt token is always computed, for its logits).
     */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Whether {@link KvBlockPool#release} has been called. */
    public boolean isReleased() {
        return released;
    }
}
