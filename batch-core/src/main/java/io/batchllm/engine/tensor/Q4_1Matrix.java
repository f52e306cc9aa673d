package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q4_1 weights: blocks of 32 values in 20 bytes, an f16 scale {@code d}, an f16 minimum {@code m},
 * then 16 bytes of nibbles placed as Q4_0's; x = d·nibble + m.
 */
final class Q4_1Matrix extends RowDecodingMatrix {
    Q4_1Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 20, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            float m = Float.float16ToFloat(le16(raw, at + 2));
            ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 4);
            ByteLanes.scalePlusMin(ByteLanes.low(q), d, m, out, o);
            ByteLanes.scalePlusMin(ByteLanes.high(q), d, m, out, o + 16);
        }
    }
}
