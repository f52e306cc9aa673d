package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;

/** IEEE half-precision weights, widened with {@link Float#float16ToFloat} (a single instruction on F16C hosts). */
final class F16Matrix extends RowDecodingMatrix {
    F16Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decode(byte[] raw, float[] out, int offset) {
        for (int i = 0; i < cols; i++) {
            out[offset + i] = Float.float16ToFloat(le16(raw, 2 * i));
        }
    }
}
