// RoPE fused with the paged KV write: one block per token of the step.
//
// qkv row t (fp32, the fused QKV GEMM's output) holds n_heads*head_dim query values, then
// n_kv_heads*head_dim keys, then as many values. The kernel adds the biases (qwen2; bias may be null),
// rotates the first rope_dim values of every query and key head in place, and writes the token's
// keys and values, as bf16, into the slot of its position in the paged cache:
//   block = block_tables[token_seq[t] * block_table_stride + pos / block_size], slot = pos % block_size,
//   cache element (block, kv head h, slot, d) at ((block * n_kv_heads + h) * block_size + slot) * head_dim + d.
// Pairs: NORM (neox = 0) rotates (2i, 2i+1), NEOX rotates (i, i + rope_dim/2). The angle is
// pos * freqs[i] in double (freqs carry the base, rope_freqs / Llama 3.1 divisors and linear scaling,
// from ModelWeights.ropeFrequencies), as the CPU computes it: float angles lose whole radians at
// positions past 10^5.

extern "C" __global__ void rope_kv_write(float* qkv, const float* bias, bf16* k_cache, bf16* v_cache,
                                         const int* positions, const int* token_seq, const int* block_tables,
                                         int block_table_stride, const double* freqs, int n_heads,
                                         int n_kv_heads, int head_dim, int rope_dim, int neox, int block_size) {
    int t = blockIdx.x;
    int q_dim = n_heads * head_dim;
    int kv_dim = n_kv_heads * head_dim;
    int row_len = q_dim + 2 * kv_dim;
    float* row = qkv + (long long) t * row_len;
    if (bias != 0) {
        for (int i = threadIdx.x; i < row_len; i += blockDim.x) {
            row[i] += bias[i];
        }
        __syncthreads();
    }
    int pos = positions[t];
    int pairs = rope_dim / 2;
    int second = neox ? pairs : 1;
    int step = neox ? 1 : 2;
    int heads = n_heads + n_kv_heads;
    for (int item = threadIdx.x; item < heads * pairs; item += blockDim.x) {
        int h = item / pairs;
        int i = item - h * pairs;
        double angle = (double) pos * freqs[i];
        float c = (float) cos(angle);
        float s = (float) sin(angle);
        int a = h * head_dim + i * step;
        int b = a + second;
        float x0 = row[a];
        float x1 = row[b];
        row[a] = x0 * c - x1 * s;
        row[b] = x0 * s + x1 * c;
    }
    __syncthreads();
    int block = block_tables[(long long) token_seq[t] * block_table_stride + pos / block_size];
    int slot = pos % block_size;
    for (int i = threadIdx.x; i < kv_dim; i += blockDim.x) {
        int h = i / head_dim;
        int d = i - h * head_dim;
        long long at = (((long long) block * n_kv_heads + h) * block_size + slot) * head_dim + d;
        k_cache[at] = float_to_bf16(row[q_dim + i]);
        v_cache[at] = float_to_bf16(row[q_dim + kv_dim + i]);
    }
}
