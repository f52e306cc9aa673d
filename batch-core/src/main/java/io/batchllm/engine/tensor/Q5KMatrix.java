package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q5_K weights: super-blocks of 256 values in 176 bytes ({@code f16 d, f16 dmin, 12 bytes of packed
 * 6-bit scales and mins, u8 qh[32], u8 qs[128]}); see {@link Dequantize} for the layout. Q4_K's
 * nibbles and scales, plus sub-block i's fifth bits in bit i of the 32 {@code qh} bytes.
 */
final class Q5KMatrix extends RowDecodingMatrix {
    Q5KMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 256; b++, at += 176) {
            float d = Float.float16ToFloat(le16(raw, at));
            float min = Float.float16ToFloat(le16(raw, at + 2));
            int sc = at + 4;
            ByteVector ha = ByteVector.fromArray(ByteLanes.B, raw, at + 16);
            ByteVector hb = ByteVector.fromArray(ByteLanes.B, raw, at + 32);
            int q = at + 48;
            for (int is = 0; is < 8; is += 2, q += 32, o += 64) {
                float d1 = d * Q4KMatrix.scale(raw, sc, is);
                float m1 = min * Q4KMatrix.min(raw, sc, is);
                float d2 = d * Q4KMatrix.scale(raw, sc, is + 1);
                float m2 = min * Q4KMatrix.min(raw, sc, is + 1);
                ByteVector qa = ByteVector.fromArray(ByteLanes.B, raw, q);
                ByteVector qb = ByteVector.fromArray(ByteLanes.B, raw, q + 16);
                int bit1 = 1 << is;
                int bit2 = 2 << is;
                ByteLanes.scaleMinusMin(ByteLanes.low(qa).or(ByteLanes.where(ha, bit1, 16)), d1, m1, out, o);
                ByteLanes.scaleMinusMin(ByteLanes.low(qb).or(ByteLanes.where(hb, bit1, 16)), d1, m1, out, o + 16);
                ByteLanes.scaleMinusMin(ByteLanes.high(qa).or(ByteLanes.where(ha, bit2, 16)), d2, m2, out, o + 32);
                ByteLanes.scaleMinusMin(ByteLanes.high(qb).or(ByteLanes.where(hb, bit2, 16)), d2, m2, out, o + 48);
            }
        }
    }
}
