package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: rows are read in place from the mapped file, with no decoding step. */
final class F32Matrix extends Matrix {
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;

    F32Matrix(GgufTensor tensor) {
        super(tensor);
        this.data = tensor.data();
    }

    @Override
    public void matmul(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        checkMatmul(x, tokens, out, rowStart, rowEnd);
        for (int r = rowStart; r < rowEnd; r++) {
            VectorDot.rowTimesTokens(data, (long) r * cols * Float.BYTES, x, tokens, cols, out, rows, r);
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int offset) {
        checkRow(row);
        MemorySegment.copy(data, LE_FLOAT, (long) row * cols * Float.BYTES, out, offset, cols);
    }
}
