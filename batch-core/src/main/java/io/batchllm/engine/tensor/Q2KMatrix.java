package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q2_K weights: super-blocks of 256 values in 84 bytes ({@code u8 scales[16], u8 qs[64], f16 d,
 * f16 dmin}); see {@link Dequantize} for the layout. Each half of 128 values reads 32 bytes of
 * {@code qs} four times, two bits further each time; each run of 16 values has its own 4-bit scale and
 * min.
 */
final class Q2KMatrix extends RowDecodingMatrix {
    Q2KMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, y = offset; b < cols / 256; b++, at += 84) {
            float d = Float.float16ToFloat(le16(raw, at + 80));
            float min = Float.float16ToFloat(le16(raw, at + 82));
            int sc = at;
            for (int q = at + 16; q < at + 80; q += 32) {
                ByteVector qa = ByteVector.fromArray(ByteLanes.B, raw, q);
                ByteVector qb = ByteVector.fromArray(ByteLanes.B, raw, q + 16);
                for (int shift = 0; shift < 8; shift += 2, y += 32, sc += 2) {
                    int s1 = raw[sc] & 0xFF;
                    int s2 = raw[sc + 1] & 0xFF;
                    ByteLanes.scaleMinusMin(ByteLanes.twoBits(qa, shift), d * (s1 & 0xF), min * (s1 >> 4), out, y);
                    ByteLanes.scaleMinusMin(ByteLanes.twoBits(qb, shift), d * (s2 & 0xF), min * (s2 >> 4), out,
                            y + 16);
                }
            }
        }
    }
}
