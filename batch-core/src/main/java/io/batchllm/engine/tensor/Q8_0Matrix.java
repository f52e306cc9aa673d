package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;

/** Q8_0 weights: blocks of 32 signed bytes with one f16 scale (34 bytes); x = d·q. */
final class Q8_0Matrix extends RowDecodingMatrix {
    Q8_0Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decodeRow(int row, Scratch s, float[] out, int offset) {
        byte[] raw = rawRow(row, s);
        for (int b = 0, at = 0, o = offset; b < cols / 32; b++, at += 34, o += 32) {
            float d = Float.float16ToFloat(le16(raw, at));
            ByteLanes.scale(ByteVector.fromArray(ByteLanes.B, raw, at + 2), d, out, o);
            ByteLanes.scale(ByteVector.fromArray(ByteLanes.B, raw, at + 18), d, out, o + 16);
        }
    }
}
