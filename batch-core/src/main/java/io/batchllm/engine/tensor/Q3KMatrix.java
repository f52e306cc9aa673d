package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q3_K weights: super-blocks of 256 values in 110 bytes ({@code u8 hmask[32], u8 qs[64],
 * u8 scales[12], f16 d}); see {@link Dequantize} for the layout. The two low bits are placed as
 * Q2_K's; run m of 32 values (m = 0..7) takes its third bit from bit m of the 32 {@code hmask} bytes,
 * a clear bit meaning −4.
 */
final class Q3KMatrix extends RowDecodingMatrix {
    Q3KMatrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, y = offset; b < cols / 256; b++, at += 110) {
            float d = Float.float16ToFloat(le16(raw, at + 108));
            ByteVector ha = ByteVector.fromArray(ByteLanes.B, raw, at);
            ByteVector hb = ByteVector.fromArray(ByteLanes.B, raw, at + 16);
            int is = 0;
            int m = 0;
            for (int q = at + 32; q < at + 96; q += 32) {
                ByteVector qa = ByteVector.fromArray(ByteLanes.B, raw, q);
                ByteVector qb = ByteVector.fromArray(ByteLanes.B, raw, q + 16);
                for (int shift = 0; shift < 8; shift += 2, y += 32, m++) {
                    ByteVector va = ByteLanes.twoBits(qa, shift).add(ByteLanes.where(ha, 1 << m, 4)).sub((byte) 4);
                    ByteVector vb = ByteLanes.twoBits(qb, shift).add(ByteLanes.where(hb, 1 << m, 4)).sub((byte) 4);
                    ByteLanes.scale(va, d * (Dequantize.scaleQ3K(raw, at + 96, is++) - 32), out, y);
                    ByteLanes.scale(vb, d * (Dequantize.scaleQ3K(raw, at + 96, is++) - 32), out, y + 16);
                }
            }
        }
    }
}
