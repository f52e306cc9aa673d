package io.batchllm.cuda.internal;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.tensor.Dequantize;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Weights as cuBLAS reads them: bf16, row-major {@code [rows][rowLength]} (a GGUF tensor's own row
 * order, so that {@link io.batchllm.cuda.internal.device.GemmCall#linear} multiplies by its transpose).
 * Every type the engine reads (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K) is decoded to F32 with
 * batch-core's {@link Dequantize} (llama.cpp's formulas), then rounded to bf16; BF16 tensors are
 * copied bit for bit. Fused projections are several tensors' rows stacked: Wq‖Wk‖Wv for one QKV GEMM,
 * Wgate‖Wup for one gate-up GEMM.
 *
 * <p>Stateless. Writes into host memory (the pinned staging buffer the upload reads).
 */
public final class Bf16Weights {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bf16Weights() {
    }

    /** Bytes {@code tensor} takes as bf16. */
    public static long bytes(GgufTensor tensor) {
        return tensor.elementCount() * 2;
    }

    /** Writes {@code tensor} as bf16 rows at {@code offset} of {@code dst}; returns the bytes written. */
    public static long write(GgufTensor tensor, MemorySegment dst, long offset) {
        long rows = tensor.rowCount();
        int cols = (int) tensor.rowLength();
        if (tensor.type() == GgmlType.BF16) {
            MemorySegment.copy(tensor.data(), 0, dst, offset, bytes(tensor));
            return bytes(tensor);
        }
        float[] row = new float[cols];
        for (long r = 0; r < rows; r++) {
            Dequantize.dequantizeRow(tensor, r, row, 0);
            long at = offset + r * cols * 2;
            for (int i = 0; i < cols; i++) {
                dst.set(LE_SHORT, at + 2L * i, Bf16.fromFloat(row[i]));
            }
        }
        return bytes(tensor);
    }

    /**
     * Writes the rows of {@code parts}, one after another, as one bf16 matrix: the fused weight of a
     * projection whose output is their outputs concatenated.
     *
     * @throws IllegalArgumentException if the parts' rows differ in length
     */
    public static long writeStacked(List<GgufTensor> parts, MemorySegment dst, long offset) {
        long rowLength = parts.getFirst().rowLength();
        long at = offset;
        for (GgufTensor t : parts) {
            if (t.rowLength() != rowLength) {
                throw new IllegalArgumentException("cannot stack " + t + " under rows of " + rowLength + " values");
            }
            at += write(t, dst, at);
        }
        return at - offset;
    }

    /** Total output rows of a stack of {@code parts}. */
    public static int stackedRows(List<GgufTensor> parts) {
        long rows = 0;
        for (GgufTensor t : parts) {
            rows += t.rowCount();
        }
        return Math.toIntExact(rows);
    }

    /**
     * Writes a vector tensor (a norm weight, a bias) as F32 at {@code offset}; the kernels read those in
     * full precision.
     */
    public static long writeF32(GgufTensor tensor, MemorySegment dst, long offset) {
        float[] values = Dequantize.toFloat(tensor);
        for (int i = 0; i < values.length; i++) {
            dst.set(LE_FLOAT, offset + 4L * i, values[i]);
        }
        return 4L * values.length;
    }
}
