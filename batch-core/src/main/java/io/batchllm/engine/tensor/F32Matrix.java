package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights: a plain dot product per row, vectorized. */
final class F32Matrix extends Matrix {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;

    F32Matrix(GgufTensor tensor) {
        super(tensor);
        this.data = tensor.data();
    }

    @Override
    public void matmul(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        for (int r = rowStart; r < rowEnd; r++) {
            long base = (long) r * cols * Float.BYTES;
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = dot(base, x, t * cols);
            }
        }
    }

    private float dot(long base, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        int upper = S.loopBound(cols);
        for (; i < upper; i += S.length()) {
            FloatVector w = FloatVector.fromMemorySegment(S, data, base + (long) i * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(S, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            sum += data.get(F, base + (long) i * Float.BYTES) * x[xOff + i];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int offset) {
        MemorySegment.copy(data, F, (long) row * cols * Float.BYTES, out, offset, cols);
    }
}
