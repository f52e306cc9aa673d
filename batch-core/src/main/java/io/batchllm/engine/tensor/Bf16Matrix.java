package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * bfloat16 weights: each value is the top half of an F32, so widening is a shift. Lanes of shorts are
 * sign-extended to ints (the sign bit then lands in bit 31 after the shift either way), shifted left
 * by 16 and reinterpreted as floats.
 */
final class Bf16Matrix extends RowDecodingMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half the bit width of the int species: the same lane count of shorts. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(I.vectorBitSize() / 2));

    Bf16Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        long base = (long) row * rowBytes;
        int i = 0;
        for (int bound = S.loopBound(cols); i < bound; i += S.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(out, offset + i);
        }
        for (; i < cols; i++) {
            out[offset + i] = Dequantize.bf16ToFloat(data.get(LE_SHORT, base + 2L * i));
        }
    }
}
