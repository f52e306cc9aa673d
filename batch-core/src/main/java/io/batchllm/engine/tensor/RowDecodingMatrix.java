package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Weights of any type, decoded to F32 a few rows at a time and multiplied with every token of the
 * call by {@link VectorDot}'s register-blocked kernels. Each block of {@link VectorDot#ROW_BLOCK} rows
 * is read from memory and decoded once per token tile (one tile for any decode step; see
 * {@link #tokenTile}) and then feeds every token: the bytes are read once however many tokens there
 * are, and the decode cost is shared by all of them, so throughput grows with the batch.
 *
 * <p>A decoded block is four rows of {@code cols} floats (12 KB for a 768-wide matrix), so it stays in
 * L1 while the tokens stream past it from L2.
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
        if (tokens == 0 || rowStart == rowEnd) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] w = s.floats(VectorDot.ROW_BLOCK * cols);
        float[] partials = s.partials();
        int tile = tokenTile(cols);
        for (int t0 = 0; t0 < tokens; t0 += tile) {
            int t1 = Math.min(tokens, t0 + tile);
            for (int r = rowStart; r < rowEnd; r += VectorDot.ROW_BLOCK) {
                int n = Math.min(VectorDot.ROW_BLOCK, rowEnd - r);
                decodeRows(r, n, s, w);
                VectorDot.rowsTimesTokens(w, n, cols, x, t0, t1, out, rows, r, partials);
            }
        }
    }

    /**
     * Tokens per pass over the rows: as many as fit in {@link #TILE_BYTES} of activations, a multiple
     * of four. With more tokens than that (a long prefill), the activations would no longer stay in
     * the core's L2 while every row block streams past them; re-decoding the weights once per tile
     * costs less than re-reading all activations from L3/DRAM once per row block, because a step with
     * that many tokens holds far more activation bytes than one matrix has weights.
     */
    static int tokenTile(int cols) {
        return Math.max(4, (int) (TILE_BYTES / (4L * cols)) & ~3);
    }

    /** Activation bytes per token tile: half of a typical 1–2 MiB L2, leaving room for the weights. */
    static final long TILE_BYTES = 512 * 1024;

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
     * Decodes rows {@code [row, row+n)} back to back into {@code out[0 .. n*cols)}. Types whose rows
     * can be converted in one bulk operation override this.
     */
    void decodeRows(int row, int n, Scratch s, float[] out) {
        for (int i = 0; i < n; i++) {
            decodeRow(row + i, s, out, i * cols);
        }
    }

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
        private final float[] partials = new float[VectorDot.PARTIALS];

        float[] partials() {
            return partials;
        }

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
