package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/**
 * Q4_0 weights: blocks of 32 values in 18 bytes, an f16 scale then 16 bytes whose low nibbles are
 * values 0..15 and high nibbles values 16..31; x = d·(nibble − 8).
 */
final class Q4_0Matrix extends RowDecodingMatrix {
    Q4_0Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 18, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            ByteVector q = ByteVector.fromArray(ByteLanes.B, raw, at + 2);
            ByteLanes.scale(ByteLanes.low(q).sub((byte) 8), d, out, o);
            ByteLanes.scale(ByteLanes.high(q).sub((byte) 8), d, out, o + 16);
        }
    }
}
