package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * IQ4_XS weights: super-blocks of 256 values in 136 bytes ({@code f16 d, u16 scales_h, u8 scales_l[4],
 * u8 qs[128]}); see {@link Dequantize} for the layout. Eight IQ4_NL-style sub-blocks of 32, each
 * scaled by {@code d·(6-bit scale − 32)}.
 */
final class IQ4XSMatrix extends RowDecodingMatrix {
    IQ4XSMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 256; b++, at += 136) {
            float d = Float.float16ToFloat(le16(raw, at));
            int scalesH = le16(raw, at + 2) & 0xFFFF;
            for (int ib = 0; ib < 8; ib++, o += 32) {
                int ls = (((raw[at + 4 + ib / 2] & 0xFF) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                float dl = d * (ls - 32);
                ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 8 + 16 * ib);
                ByteLanes.scale(ByteLanes.low(q).selectFrom(IQ4NLMatrix.LEVELS), dl, out, o);
                ByteLanes.scale(ByteLanes.high(q).selectFrom(IQ4NLMatrix.LEVELS), dl, out, o + 16);
            }
        }
    }
}
