// RMSNorm: one block per output row. Reads the fp32 residual stream, writes the bf16 copy the next
// GEMM reads: out = x * (1 / sqrt(mean(x^2) + eps)) * weight, as the CPU's VectorMath.rmsnorm.
// rows (may be null) picks the input row of each output row, so the final norm runs only on the
// last token of each sequence that wants logits.

extern "C" __global__ void rmsnorm(bf16* out, const float* in, const float* weight, const int* rows, int dim,
                                   float eps) {
    __shared__ float scratch[BLLM_MAX_THREADS];
    long long src = (long long) (rows != 0 ? rows[blockIdx.x] : (int) blockIdx.x) * dim;
    const float* x = in + src;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        ss += x[i] * x[i];
    }
    float mean = block_sum_f(ss, scratch) / (float) dim;
    float scale = (float) (1.0 / sqrt((double) (mean + eps)));
    bf16* o = out + (long long) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        o[i] = float_to_bf16(x[i] * scale * weight[i]);
    }
}
