package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K weights: super-blocks of 256 values in 210 bytes ({@code ql[128], qh[64], int8 scales[16],
 * f16 d}); see {@link Dequantize} for the layout. Each half of 128 values is decoded 16 lanes at a
 * time: lanes l..l+15 of ql, ql+32 and qh give values l, l+32, l+64 and l+96.
 */
final class Q6KMatrix extends RowDecodingMatrix {
    Q6KMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, y = offset; b < cols / 256; b++, at += 210) {
            float d = Float.float16ToFloat(le16(raw, at + 208));
            int ql = at;
            int qh = at + 128;
            int sc = at + 192;
            for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; l += 16) {
                    int is = sc + l / 16;
                    ByteVector lowA = ByteVector.fromArray(ByteLanes.B, raw, ql + l);
                    ByteVector lowB = ByteVector.fromArray(ByteLanes.B, raw, ql + l + 32);
                    ByteVector h = ByteVector.fromArray(ByteLanes.B, raw, qh + l);
                    ByteLanes.scale(sixBits(ByteLanes.low(lowA), h, 0), d * raw[is], out, y + l);
                    ByteLanes.scale(sixBits(ByteLanes.low(lowB), h, 2), d * raw[is + 2], out, y + l + 32);
                    ByteLanes.scale(sixBits(ByteLanes.high(lowA), h, 4), d * raw[is + 4], out, y + l + 64);
                    ByteLanes.scale(sixBits(ByteLanes.high(lowB), h, 6), d * raw[is + 6], out, y + l + 96);
                }
            }
        }
    }

    /** (low 4 bits | 2 bits of {@code h} at {@code shift}, moved to bits 4..5) − 32, in −32..31. */
    private static ByteVector sixBits(ByteVector low4, ByteVector h, int shift) {
        ByteVector top2 = h.lanewise(VectorOperators.LSHR, shift).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
        return low4.or(top2).sub((byte) 32);
    }
}
