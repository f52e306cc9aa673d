// Embedding gather: one block per token, out[t][:] = table[tokens[t]][:] widened to fp32 (the
// residual stream). The table is bf16 (weights dequantized at load) or kept as GGUF Q8_0 blocks.

extern "C" __global__ void embed_bf16(float* out, const bf16* table, const int* tokens, int dim) {
    long long row = (long long) tokens[blockIdx.x] * dim;
    float* o = out + (long long) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        o[i] = bf16_to_float(table[row + i]);
    }
}

/** Q8_0: 34 bytes per 32 values, an f16 scale d then 32 int8 q; x = d * q (as llama.cpp). */
extern "C" __global__ void embed_q8_0(float* out, const unsigned char* table, const int* tokens, int dim) {
    long long rowBytes = (long long) (dim / 32) * 34;
    const unsigned char* row = table + (long long) tokens[blockIdx.x] * rowBytes;
    float* o = out + (long long) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const unsigned char* block = row + (i / 32) * 34;
        float d = half_to_float((unsigned short) (block[0] | (block[1] << 8)));
        o[i] = (float) (signed char) block[2 + i % 32] * d;
    }
}
