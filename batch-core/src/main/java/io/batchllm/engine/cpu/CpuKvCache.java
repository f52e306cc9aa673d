package io.batchllm.engine.cpu;

import io.batchllm.engine.model.KvCache;
import java.util.Arrays;

/**
 * One sequence's keys and values on the heap: per layer, one F32 array of {@code positions × kvDim}
 * (position-major, so a token's K for all heads is contiguous and is written with one copy).
 *
 * <p>The arrays grow by doubling as the sequence does, up to {@link #capacity()}, so that a cache
 * created for a long context costs only what the sequence actually uses.
 */
final class CpuKvCache implements KvCache {
    /** Positions allocated up front: enough for short prompts without regrowing. */
    private static final int INITIAL_POSITIONS = 64;

    private final CpuExecutor owner;
    private final int capacity;
    private final int kvDim;
    private float[][] keys;
    private float[][] values;
    private int allocated;
    private int length;
    private boolean closed;

    CpuKvCache(CpuExecutor owner, int layers, int kvDim, int capacity) {
        this.owner = owner;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.allocated = Math.min(capacity, INITIAL_POSITIONS);
        this.keys = new float[layers][allocated * kvDim];
        this.values = new float[layers][allocated * kvDim];
    }

    boolean ownedBy(CpuExecutor executor) {
        return owner == executor;
    }

    /** Makes room for positions {@code [0, positions)}. */
    void ensureCapacity(int positions) {
        if (positions <= allocated) {
            return;
        }
        int grown = (int) Math.min(capacity, Math.max(positions, 2L * allocated));
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Arrays.copyOf(keys[l], grown * kvDim);
            values[l] = Arrays.copyOf(values[l], grown * kvDim);
        }
        allocated = grown;
    }

    /** Layer {@code l}'s keys: position {@code p}, head {@code h} starts at {@code p*kvDim + h*headDim}. */
    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    void setLength(int length) {
        this.length = length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        keys = null;
        values = null;
        length = 0;
    }

    @Override
    public String toString() {
        return "CpuKvCache[length=" + length + ", capacity=" + capacity + (closed ? ", closed" : "") + "]";
    }
}
