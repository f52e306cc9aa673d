package io.batchllm.cuda.internal.device;

/**
 * A kernel launch's grid and block: {@code gridX × gridY × gridZ} blocks of {@code threads} threads
 * (one dimension; the kernels' reductions need a power of two, at most 1024) with
 * {@code sharedBytes} of dynamic shared memory.
 */
public record LaunchShape(int gridX, int gridY, int gridZ, int threads, int sharedBytes) {
    /** The most threads a block may have. */
    public static final int MAX_THREADS = 1024;

    public LaunchShape {
        if (gridX < 1 || gridY < 1 || gridZ < 1) {
            throw new IllegalArgumentException("grid dimensions must be >= 1, got " + gridX + "x" + gridY + "x" + gridZ);
        }
        if (threads < 1 || threads > MAX_THREADS || Integer.bitCount(threads) != 1) {
            throw new IllegalArgumentException("threads must be a power of two from 1 to " + MAX_THREADS + ", got "
                    + threads);
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("sharedBytes must be >= 0, got " + sharedBytes);
        }
    }

    /** A one-dimensional grid without dynamic shared memory. */
    public static LaunchShape of(int blocks, int threads) {
        return new LaunchShape(blocks, 1, 1, threads, 0);
    }

    /** Blocks in all. */
    public long blocks() {
        return (long) gridX * gridY * gridZ;
    }
}
