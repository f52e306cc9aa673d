package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * IEEE half-precision weights. The Vector API has no half-float conversion, but C2 vectorizes a
 * plain loop of {@link Float#float16ToFloat} over a {@code short[]} (vcvtph2ps on F16C/AVX-512
 * hosts), so the row is bulk-copied into a short scratch array and widened with that loop.
 */
final class F16Matrix extends RowDecodingMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F16Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        short[] h = s.shorts(cols);
        MemorySegment.copy(data, LE_SHORT, (long) row * rowBytes, h, 0, cols);
        widen(h, out, offset, cols);
    }

    /** Consecutive rows are consecutive in the file: one copy and one widening loop for the block. */
    @Override
    void decodeRows(int row, int n, Scratch s, float[] out) {
        short[] h = s.shorts(n * cols);
        MemorySegment.copy(data, LE_SHORT, (long) row * rowBytes, h, 0, n * cols);
        widen(h, out, 0, n * cols);
    }

    private static void widen(short[] h, float[] out, int offset, int n) {
        for (int i = 0; i < n; i++) {
            out[offset + i] = Float.float16ToFloat(h[i]);
        }
    }
}
