package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgufTensor;

/** bfloat16 weights: each value is the top half of an F32, so widening is a shift. */
final class Bf16Matrix extends RowDecodingMatrix {
    Bf16Matrix(GgufTensor tensor) {
        super(tensor);
    }

    @Override
    void decode(byte[] raw, float[] out, int offset) {
        for (int i = 0; i < cols; i++) {
            out[offset + i] = Float.intBitsToFloat(((raw[2 * i] & 0xFF) << 16) | (raw[2 * i + 1] << 24));
        }
    }
}
