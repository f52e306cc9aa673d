package io.batchllm.cuda.internal;

import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;

/**
 * How big the GPU KV cache is: bf16 K and V of every layer per token position, in blocks of the
 * engine's block size, taking {@code fraction} of the device memory that is free after the weights
 * and working buffers are allocated, less a reserve for cuBLAS workspaces and CUDA graphs.
 *
 * @param fraction the part of the free memory the cache may take, above 0 and at most 1
 *     (backend option {@value #FRACTION_OPTION}, default {@value #DEFAULT_FRACTION})
 * @param reserveBytes memory left free besides (default {@value #DEFAULT_RESERVE_BYTES})
 */
public record KvCacheSizing(double fraction, long reserveBytes) {
    /** The backend option that sets {@link #fraction()}. */
    public static final String FRACTION_OPTION = "gpu_memory_fraction";
    /** Default {@link #fraction()}. */
    public static final double DEFAULT_FRACTION = 0.9;
    /** Default {@link #reserveBytes()}: 512 MiB. */
    public static final long DEFAULT_RESERVE_BYTES = 512L << 20;
    /** The defaults. */
    public static final KvCacheSizing DEFAULTS = new KvCacheSizing(DEFAULT_FRACTION, DEFAULT_RESERVE_BYTES);

    public KvCacheSizing {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException(FRACTION_OPTION + " must be above 0 and at most 1, got " + fraction);
        }
        if (reserveBytes < 0) {
            throw new IllegalArgumentException("reserveBytes must be >= 0, got " + reserveBytes);
        }
    }

    /**
     * The default sizing with {@link #FRACTION_OPTION} from the backend option's text, if given.
     *
     * @throws IllegalArgumentException naming the option when the text is not a number in range
     */
    public static KvCacheSizing fromOption(String value) {
        if (value == null) {
            return DEFAULTS;
        }
        try {
            return new KvCacheSizing(Double.parseDouble(value.strip()), DEFAULT_RESERVE_BYTES);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend option " + FRACTION_OPTION
                    + " must be a number above 0 and at most 1, got '" + value + "'");
        }
    }

    /** Bytes of one token position: K and V, every layer, bf16. */
    public static long bytesPerToken(ModelConfig c) {
        return 2L * c.blockCount() * c.kvDim() * 2;
    }

    /** Bytes the cache may take when {@code freeBytes} are free. */
    public long budget(long freeBytes) {
        return Math.max(0, (long) (freeBytes * fraction) - reserveBytes);
    }

    /**
     * The cache layout for {@code freeBytes} of free memory: as many whole blocks as the budget holds,
     * but no more than {@code maxTokens} positions need (0 = no cap).
     *
     * @throws IllegalArgumentException if not even one block fits, naming the numbers to change
     */
    public KvLayout layout(ModelConfig c, int blockSize, long freeBytes, long maxTokens) {
        long perBlock = bytesPerToken(c) * blockSize;
        long blocks = budget(freeBytes) / perBlock;
        if (maxTokens > 0) {
            blocks = Math.min(blocks, (maxTokens + blockSize - 1) / blockSize);
        }
        if (blocks < 1) {
            throw new IllegalArgumentException("the GPU KV cache does not fit: one block of " + blockSize
                    + " positions needs " + perBlock + " bytes, but " + FRACTION_OPTION + " " + fraction + " of "
                    + (freeBytes >> 20) + " MiB free, less " + (reserveBytes >> 20) + " MiB reserved, leaves "
                    + (budget(freeBytes) >> 20) + " MiB; raise " + FRACTION_OPTION + " or free GPU memory");
        }
        return new KvLayout(blockSize, (int) Math.min(Integer.MAX_VALUE, blocks));
    }
}
