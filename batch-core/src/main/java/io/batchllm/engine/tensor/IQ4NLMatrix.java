package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * IQ4_NL weights: blocks of 32 values in 18 bytes, an f16 scale then 16 bytes of nibbles placed as
 * Q4_0's, each nibble an index into the non-linear table {@link Dequantize#IQ4_NL_VALUES};
 * x = d·table[nibble]. The table lookup is one byte shuffle of 16 lanes.
 */
final class IQ4NLMatrix extends RowDecodingMatrix {
    /** The 16 levels as one vector, indexed by {@link ByteVector#selectFrom}. */
    static final ByteVector LEVELS = ByteVector.fromArray(ByteLanes.B, Dequantize.IQ4_NL_VALUES, 0);

    IQ4NLMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 18, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 2);
            ByteLanes.scale(ByteLanes.low(q).selectFrom(LEVELS), d, out, o);
            ByteLanes.scale(ByteLanes.high(q).selectFrom(LEVELS), d, out, o + 16);
        }
    }
}
