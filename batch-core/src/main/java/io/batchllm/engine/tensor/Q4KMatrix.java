package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q4_K weights: super-blocks of 256 values in 144 bytes ({@code f16 d, f16 dmin, 12 bytes of packed
 * 6-bit scales and mins, 128 bytes of nibbles}); see {@link Dequantize} for the layout. Each group of
 * 32 nibble bytes holds two sub-blocks of 32: low nibbles first, then high nibbles.
 */
final class Q4KMatrix extends RowDecodingMatrix {
    Q4KMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 256; b++, at += 144) {
            float d = Float.float16ToFloat(le16(raw, at));
            float min = Float.float16ToFloat(le16(raw, at + 2));
            int sc = at + 4;
            int q = at + 16;
            for (int is = 0; is < 8; is += 2, q += 32, o += 64) {
                float d1 = d * scale(raw, sc, is);
                float m1 = min * min(raw, sc, is);
                float d2 = d * scale(raw, sc, is + 1);
                float m2 = min * min(raw, sc, is + 1);
                ByteVector qa = ByteVector.fromArray(ByteLanes.B, raw, q);
                ByteVector qb = ByteVector.fromArray(ByteLanes.B, raw, q + 16);
                ByteLanes.scaleMinusMin(ByteLanes.low(qa), d1, m1, out, o);
                ByteLanes.scaleMinusMin(ByteLanes.low(qb), d1, m1, out, o + 16);
                ByteLanes.scaleMinusMin(ByteLanes.high(qa), d2, m2, out, o + 32);
                ByteLanes.scaleMinusMin(ByteLanes.high(qb), d2, m2, out, o + 48);
            }
        }
    }

    /** {@link Dequantize#scaleMinK4}'s scale of sub-block j, read from the scale bytes at {@code raw[s]} (Q5_K's too). */
    static int scale(byte[] raw, int s, int j) {
        return j < 4 ? raw[s + j] & 63 : (raw[s + j + 4] & 0xF) | (((raw[s + j - 4] & 0xFF) >> 6) << 4);
    }

    /** {@link Dequantize#scaleMinK4}'s min of sub-block j. */
    static int min(byte[] raw, int s, int j) {
        return j < 4 ? raw[s + j + 4] & 63 : ((raw[s + j + 4] & 0xFF) >> 4) | (((raw[s + j] & 0xFF) >> 6) << 4);
    }
}
