package io.batchllm.engine.model;

/**
 * The shape of a paged KV cache: {@code blockCount} blocks of {@code blockSize} token positions each.
 * A sequence's positions live in the blocks its block table names, in order: position {@code p} is
 * slot {@code p % blockSize} of block {@code blockTable[p / blockSize]}. The layout is all a device
 * needs to reserve its storage ({@link DeviceExecutor#allocateKvCache}); which block holds what is
 * decided above the device (the scheduler's block pool).
 *
 * @param blockSize token positions per block, at least 1
 * @param blockCount blocks in the cache, at least 1
 */
public record KvLayout(int blockSize, int blockCount) {

    public KvLayout {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be at least 1, is " + blockSize);
        }
        if (blockCount < 1) {
            throw new IllegalArgumentException("blockCount must be at least 1, is " + blockCount);
        }
    }

    /** Token positions the whole cache holds. */
    public long tokens() {
        return (long) blockSize * blockCount;
    }

    /** Blocks needed to hold positions {@code [0, tokens)}. */
    public int blocksFor(int tokens) {
        return blocksFor(tokens, blockSize);
    }

    /** Blocks of {@code blockSize} positions needed to hold positions {@code [0, tokens)}. */
    public static int blocksFor(int tokens, int blockSize) {
        return (int) (((long) tokens + blockSize - 1) / blockSize);
    }
}
