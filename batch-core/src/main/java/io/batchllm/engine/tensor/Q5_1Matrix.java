package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q5_1 weights: blocks of 32 values in 24 bytes, an f16 scale {@code d} and minimum {@code m}, a
 * little-endian u32 of fifth bits (bit j for value j), then 16 bytes of nibbles placed as Q4_0's;
 * x = d·q + m.
 */
final class Q5_1Matrix extends RowDecodingMatrix {
    Q5_1Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 24, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            float m = Float.float16ToFloat(le16(raw, at + 2));
            ByteVector qh = ByteVector.fromArray(ByteLanes.B, raw, at + 4);
            ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 8);
            ByteLanes.scalePlusMin(ByteLanes.low(q).or(ByteLanes.fifthBits(qh, false)), d, m, out, o);
            ByteLanes.scalePlusMin(ByteLanes.high(q).or(ByteLanes.fifthBits(qh, true)), d, m, out, o + 16);
        }
    }
}
