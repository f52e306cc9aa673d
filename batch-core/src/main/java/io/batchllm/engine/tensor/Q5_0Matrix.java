package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q5_0 weights: blocks of 32 values in 22 bytes, an f16 scale, a little-endian u32 of fifth bits (bit
 * j for value j), then 16 bytes of nibbles placed as Q4_0's; x = d·(q − 16).
 */
final class Q5_0Matrix extends RowDecodingMatrix {
    Q5_0Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 22, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            // 16 bytes from the fifth bits on stay inside the block (4 of qh, 12 of qs)
            ByteVector qh = ByteVector.fromArray(ByteLanes.B, raw, at + 2);
            ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 6);
            ByteVector first = ByteLanes.low(q).or(ByteLanes.fifthBits(qh, false)).sub((byte) 16);
            ByteVector second = ByteLanes.high(q).or(ByteLanes.fifthBits(qh, true)).sub((byte) 16);
            ByteLanes.scale(first, d, out, o);
            ByteLanes.scale(second, d, out, o + 16);
        }
    }
}
