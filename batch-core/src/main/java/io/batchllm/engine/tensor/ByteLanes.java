package io.batchllm.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widens 16 signed byte lanes (quantized levels) to floats and scales them, for the block decoders.
 *
 * <p>The arithmetic is a multiply followed by a separate subtract, not an FMA, so the vector
 * decoders round exactly as llama.cpp's scalar {@code dequantize_row_*} (and {@link Dequantize}) do
 * and produce bit-identical rows.
 */
final class ByteLanes {
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Float> F = VectorDot.F;
    /** A 16-byte vector widens to 16 floats: one 512-bit vector, or several narrower ones. */
    private static final int PARTS = B.length() / F.length();

    private ByteLanes() {
    }

    /** {@code out[o .. o+16) = q[i] * scale}. */
    static void scale(ByteVector q, float scale, float[] out, int o) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector f = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            f.mul(scale).intoArray(out, o + p * F.length());
        }
    }

    /** {@code out[o .. o+16) = q[i] * scale - min}. */
    static void scaleMinusMin(ByteVector q, float scale, float min, float[] out, int o) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector f = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            f.mul(scale).sub(min).intoArray(out, o + p * F.length());
        }
    }

    /** The low nibbles of 16 bytes, as values 0..15. */
    static ByteVector low(ByteVector v) {
        return v.and((byte) 0x0F);
    }

    /** The high nibbles of 16 bytes, as values 0..15. */
    static ByteVector high(ByteVector v) {
        return v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F);
    }
}
