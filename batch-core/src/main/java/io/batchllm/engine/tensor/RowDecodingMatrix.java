package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Weights stored in a compressed form (F16, BF16, quantized blocks). Each weight row is decoded to F32
 * once per {@link #matmul} call into a per-thread scratch row, then multiplied with every token's
 * activations: the bytes are read from memory once however many tokens there are, and the decode
 * cost is shared by all of them.
 *
 * <p>A decoded row is {@code cols} floats (a few KB up to a few tens of KB), so it stays in L1/L2 while
 * the tokens are multiplied with it.
 */
abstract class RowDecodingMatrix extends Matrix {
    /** Per-thread buffers, grown on demand, so matmul allocates nothing once warm. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    protected final MemorySegment data;
    protected final int rowBytes;

    RowDecodingMatrix(GgufTensor tensor) {
        super(tensor);
        this.data = tensor.data();
        this.rowBytes = Math.toIntExact(tensor.rowBytes());
    }

    @Override
    public final void matmul(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        checkMatmul(x, tokens, out, rowStart, rowEnd);
        if (tokens == 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] w = s.floats(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            decodeRow(r, s, w, 0);
            VectorDot.rowTimesTokens(w, x, tokens, cols, out, rows, r);
        }
    }

    @Override
    public final void dequantizeRow(int row, float[] out, int offset) {
        checkRow(row);
        if (offset < 0 || offset > out.length - cols) {
            throw new IndexOutOfBoundsException("row of " + cols + " values at offset " + offset
                    + " does not fit out.length " + out.length);
        }
        decodeRow(row, SCRATCH.get(), out, offset);
    }

    /** Decodes row {@code row} to {@code cols} floats at {@code out[offset]}, using {@code s} for raw data. */
    abstract void decodeRow(int row, Scratch s, float[] out, int offset);

    /**
     * For block decoders: row {@code row}'s bytes, copied into scratch with one bulk copy so that the
     * decode loops index a plain array (no per-byte bounds checks against the mapped segment).
     */
    final byte[] rawRow(int row, Scratch s) {
        byte[] raw = s.bytes(rowBytes);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) row * rowBytes, raw, 0, rowBytes);
        return raw;
    }

    /** Reads a little-endian u16 (an f16 / bf16 bit pattern) from a byte array. */
    static short le16(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] << 8));
    }

    /** A thread's buffers. */
    static final class Scratch {
        private float[] floats = new float[0];
        private byte[] bytes = new byte[0];
        private short[] shorts = new short[0];

        short[] shorts(int n) {
            if (shorts.length < n) {
                shorts = new short[n];
            }
            return shorts;
        }

        float[] floats(int n) {
            if (floats.length < n) {
                floats = new float[n];
            }
            return floats;
        }

        byte[] bytes(int n) {
            if (bytes.length < n) {
                bytes = new byte[n];
            }
            return bytes;
        }
    }
}
