package io.batchllm.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
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
    /** Lane j takes byte j / 8 of a little-endian u32 (values 0..15), or byte 2 + j / 8 (values 16..31). */
    private static final VectorShuffle<Byte> FIRST_HALF_BYTES =
            VectorShuffle.fromValues(B, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    private static final VectorShuffle<Byte> SECOND_HALF_BYTES =
            VectorShuffle.fromValues(B, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    /** Lane j holds bit j % 8. */
    private static final ByteVector BIT_OF_LANE = ByteVector.fromArray(B,
            new byte[] {1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128}, 0);

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

    /** {@code out[o .. o+16) = q[i] * scale + min}: the affine types (Q4_1, Q5_1), whose min is added. */
    static void scalePlusMin(ByteVector q, float scale, float min, float[] out, int o) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector f = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            f.mul(scale).add(min).intoArray(out, o + p * F.length());
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

    /**
     * The fifth bits of a Q5_0/Q5_1 block: bit j of the little-endian u32 in the first four lanes of
     * {@code qh} belongs to value j. Returns 16 lanes, 16 where the bit is set and 0 elsewhere, for values
     * 0..15 or (with {@code secondHalf}) 16..31.
     */
    static ByteVector fifthBits(ByteVector qh, boolean secondHalf) {
        ByteVector spread = qh.rearrange(secondHalf ? SECOND_HALF_BYTES : FIRST_HALF_BYTES);
        return ByteVector.zero(B).blend((byte) 16, spread.and(BIT_OF_LANE).compare(VectorOperators.NE, 0));
    }

    /** Bits {@code shift, shift+1} of 16 bytes, as values 0..3 (the 2-bit fields of Q2_K and Q3_K). */
    static ByteVector twoBits(ByteVector v, int shift) {
        return v.lanewise(VectorOperators.LSHR, shift).and((byte) 3);
    }

    /**
     * 16 lanes that are {@code value} where {@code (bits[i] & mask) != 0} and 0 elsewhere: a high bit
     * of each value (Q5_0, Q5_1, Q5_K, Q3_K) moved to where it adds.
     */
    static ByteVector where(ByteVector bits, int mask, int value) {
        return ByteVector.zero(B).blend((byte) value, bits.and((byte) mask).compare(VectorOperators.NE, 0));
    }
}
