// Elementwise kernels around the GEMMs (grid-stride loops, any grid).

/**
 * SwiGLU on the fused gate||up GEMM output: row t of gate_up holds ffn gate values then ffn up
 * values; out[t][j] = silu(gate) * up with silu(g) = g / (1 + e^-g), as the CPU's VectorMath.swiglu.
 */
extern "C" __global__ void silu_mul(bf16* out, const float* gate_up, int ffn, long long total) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        long long t = i / ffn;
        long long j = i - t * ffn;
        float g = gate_up[t * 2 * ffn + j];
        float u = gate_up[t * 2 * ffn + ffn + j];
        out[i] = float_to_bf16(g / (1.0f + expf(-g)) * u);
    }
}

/** x += y over n values: the residual add, where it is not folded into a GEMM with beta = 1. */
extern "C" __global__ void residual_add(float* x, const float* y, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        x[i] += y[i];
    }
}

/** out = bf16(in) over n values. */
extern "C" __global__ void f32_to_bf16(bf16* out, const float* in, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        out[i] = float_to_bf16(in[i]);
    }
}
