package io.batchllm.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its shape and type, and its bytes as a slice of the memory-mapped file
 * (nothing is copied).
 *
 * <p>{@code dims[0]} is ggml's {@code ne[0]}: the length of a contiguous row. A 2-D weight
 * {@code [ne0, ne1]} is therefore {@code ne1} rows of {@code ne0} values, which is how matrix-vector
 * products read it ({@code out[r] = dot(row r, x)}).
 *
 * @param name the tensor's name, such as {@code blk.0.attn_q.weight}
 * @param type its element type
 * @param dims its dimensions, {@code ne[0]} first
 * @param data its bytes, exactly {@code type.bytesFor(elementCount())} long
 */
public record GgufTensor(String name, GgmlType type, long[] dims, MemorySegment data) {

    public GgufTensor {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** Number of values. */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Values per row ({@code ne[0]}). */
    public long rowLength() {
        return dims[0];
    }

    /** Number of rows: the product of all dimensions but the first. */
    public long rowCount() {
        return elementCount() / dims[0];
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.bytesFor(dims[0]);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.dims, dims)
                && t.data.equals(data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }
}
