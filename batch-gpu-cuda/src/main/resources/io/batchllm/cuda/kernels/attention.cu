// Paged causal attention with grouped-query heads. Every token attends to positions [0, its
// position] of its own sequence, found through the sequence's block table; query head h reads KV
// head h / (n_heads / n_kv_heads). Queries come from the fused qkv rows (after rope_kv_write); the
// output is bf16 [tokens][n_heads * head_dim], the input of the output projection.
//
// KV cache layout: see rope_kv_write.

__device__ __forceinline__ long long kv_at(const int* table, int p, int block_size, int n_kv_heads, int kv_head,
                                          int head_dim) {
    int block = table[p / block_size];
    return (((long long) block * n_kv_heads + kv_head) * block_size + p % block_size) * head_dim;
}

/**
 * Decode attention, split over the context: grid (tokens, n_heads, splits), one block per
 * (token, head, split of split_len positions). Each split computes its scores exactly (max, then
 * exp), and the splits are merged by attention_combine with the online-softmax rule
 * (m = max m_s, l = sum l_s e^(m_s - m), out = sum acc_s e^(m_s - m) / l). A token whose context fits
 * in one split writes its output here and attention_combine skips it, so how many splits other
 * tokens of the launch need never changes its result.
 *
 * Dynamic shared memory: (split_len + head_dim) floats.
 * partial_acc: [tokens][n_heads][splits][head_dim]; partial_ml: [tokens][n_heads][splits][2].
 */
extern "C" __global__ void attention_decode(bf16* out, float* partial_acc, float* partial_ml, const float* qkv,
                                            const bf16* k_cache, const bf16* v_cache, const int* positions,
                                            const int* token_seq, const int* block_tables,
                                            int block_table_stride, int n_heads, int n_kv_heads, int head_dim,
                                            int block_size, int split_len, float scale) {
    __shared__ float scratch[BLLM_MAX_THREADS];
    BLLM_DYNAMIC_SHARED(float, smem);
    float* scores = smem;
    float* q = smem + split_len;
    int t = blockIdx.x;
    int h = blockIdx.y;
    int split = blockIdx.z;
    int splits = gridDim.z;
    int visible = positions[t] + 1;
    int needed = (visible + split_len - 1) / split_len;
    if (split >= needed) {
        return;
    }
    int start = split * split_len;
    int end = min(visible, start + split_len);
    int kv_head = h / (n_heads / n_kv_heads);
    int row_len = (n_heads + 2 * n_kv_heads) * head_dim;
    const float* qsrc = qkv + (long long) t * row_len + h * head_dim;
    const int* table = block_tables + (long long) token_seq[t] * block_table_stride;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        q[d] = qsrc[d];
    }
    __syncthreads();
    float local_max = BLLM_NEG_INF;
    for (int p = start + threadIdx.x; p < end; p += blockDim.x) {
        const bf16* k = k_cache + kv_at(table, p, block_size, n_kv_heads, kv_head, head_dim);
        float dot = 0.0f;
        for (int d = 0; d < head_dim; d++) {
            dot += q[d] * bf16_to_float(k[d]);
        }
        float s = dot * scale;
        scores[p - start] = s;
        local_max = fmaxf(local_max, s);
    }
    float m = block_max_f(local_max, scratch);
    float local_sum = 0.0f;
    for (int p = start + threadIdx.x; p < end; p += blockDim.x) {
        float e = expf(scores[p - start] - m);
        scores[p - start] = e;
        local_sum += e;
    }
    float l = block_sum_f(local_sum, scratch);
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int p = start; p < end; p++) {
            const bf16* v = v_cache + kv_at(table, p, block_size, n_kv_heads, kv_head, head_dim);
            acc += scores[p - start] * bf16_to_float(v[d]);
        }
        if (needed == 1) {
            out[(long long) t * n_heads * head_dim + h * head_dim + d] = float_to_bf16(acc / l);
        } else {
            partial_acc[(((long long) t * n_heads + h) * splits + split) * head_dim + d] = acc;
        }
    }
    if (needed > 1 && threadIdx.x == 0) {
        long long at = (((long long) t * n_heads + h) * splits + split) * 2;
        partial_ml[at] = m;
        partial_ml[at + 1] = l;
    }
}

/** Merges the splits of attention_decode: grid (tokens, n_heads); tokens needing one split are skipped. */
extern "C" __global__ void attention_combine(bf16* out, const float* partial_acc, const float* partial_ml,
                                             const int* positions, int n_heads, int head_dim, int splits,
                                             int split_len) {
    int t = blockIdx.x;
    int h = blockIdx.y;
    int needed = (positions[t] + split_len) / split_len;
    if (needed <= 1) {
        return;
    }
    long long base = ((long long) t * n_heads + h) * splits;
    float m = BLLM_NEG_INF;
    for (int s = 0; s < needed; s++) {
        m = fmaxf(m, partial_ml[(base + s) * 2]);
    }
    float l = 0.0f;
    for (int s = 0; s < needed; s++) {
        l += partial_ml[(base + s) * 2 + 1] * expf(partial_ml[(base + s) * 2] - m);
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < needed; s++) {
            acc += partial_acc[(base + s) * head_dim + d] * expf(partial_ml[(base + s) * 2] - m);
        }
        out[(long long) t * n_heads * head_dim + h * head_dim + d] = float_to_bf16(acc / l);
    }
}

#define PREFILL_QUERIES 16
#define PREFILL_KEYS 32
#define PREFILL_MAX_ACC 32

/**
 * Chunked-prefill attention: grid (tiles, n_heads), one block per (tile, head). A tile is up to
 * PREFILL_QUERIES consecutive tokens of one sequence (tile_first_token, tile_token_count), so each
 * chunk of PREFILL_KEYS keys and values is loaded into shared memory once and used by every query of
 * the tile. Each query keeps a running max, sum and accumulator (online softmax) over the chunks;
 * chunks start at multiples of PREFILL_KEYS from position 0 and a query's masked positions add
 * nothing, so a query's result does not depend on which tile it is in.
 *
 * Needs PREFILL_QUERIES * head_dim <= PREFILL_MAX_ACC * blockDim.x (head_dim 256 with 128 threads).
 * Dynamic shared memory: floats for K and V chunks (2 * PREFILL_KEYS * (head_dim + 1)), the queries
 * (PREFILL_QUERIES * head_dim), the scores (PREFILL_QUERIES * PREFILL_KEYS) and 3 * PREFILL_QUERIES.
 */
extern "C" __global__ void attention_prefill(bf16* out, const float* qkv, const bf16* k_cache, const bf16* v_cache,
                                             const int* positions, const int* token_seq, const int* block_tables,
                                             int block_table_stride, const int* tile_first_token,
                                             const int* tile_token_count, int n_heads, int n_kv_heads,
                                             int head_dim, int block_size, float scale) {
    BLLM_DYNAMIC_SHARED(float, smem);
    if (PREFILL_QUERIES * head_dim > PREFILL_MAX_ACC * (int) blockDim.x) {
        __trap();  // too few threads to hold the tile's accumulators: a launcher bug, never a silent result
    }
    int stride = head_dim + 1;  // one float of padding: lanes reading one column hit different banks
    float* ks = smem;
    float* vs = ks + PREFILL_KEYS * stride;
    float* qs = vs + PREFILL_KEYS * stride;
    float* ps = qs + PREFILL_QUERIES * head_dim;
    float* run_max = ps + PREFILL_QUERIES * PREFILL_KEYS;
    float* run_sum = run_max + PREFILL_QUERIES;
    float* alpha = run_sum + PREFILL_QUERIES;

    int first = tile_first_token[blockIdx.x];
    int count = tile_token_count[blockIdx.x];
    int h = blockIdx.y;
    int kv_head = h / (n_heads / n_kv_heads);
    int row_len = (n_heads + 2 * n_kv_heads) * head_dim;
    const int* table = block_tables + (long long) token_seq[first] * block_table_stride;
    int last_visible = positions[first + count - 1] + 1;

    for (int i = threadIdx.x; i < PREFILL_QUERIES * head_dim; i += blockDim.x) {
        int qi = i / head_dim;
        qs[i] = qi < count ? qkv[(long long) (first + qi) * row_len + h * head_dim + (i - qi * head_dim)] : 0.0f;
    }
    if (threadIdx.x < PREFILL_QUERIES) {
        run_max[threadIdx.x] = BLLM_NEG_INF;
        run_sum[threadIdx.x] = 0.0f;
    }
    float acc[PREFILL_MAX_ACC];
    int owned = 0;
    for (int e = threadIdx.x; e < PREFILL_QUERIES * head_dim; e += blockDim.x) {
        acc[owned++] = 0.0f;
    }
    __syncthreads();

    for (int c0 = 0; c0 < last_visible; c0 += PREFILL_KEYS) {
        int n = min(PREFILL_KEYS, last_visible - c0);
        for (int i = threadIdx.x; i < PREFILL_KEYS * head_dim; i += blockDim.x) {
            int j = i / head_dim;
            int d = i - j * head_dim;
            float kv = 0.0f;
            float vv = 0.0f;
            if (j < n) {
                long long at = kv_at(table, c0 + j, block_size, n_kv_heads, kv_head, head_dim) + d;
                kv = bf16_to_float(k_cache[at]);
                vv = bf16_to_float(v_cache[at]);
            }
            ks[j * stride + d] = kv;
            vs[j * stride + d] = vv;
        }
        __syncthreads();
        for (int i = threadIdx.x; i < PREFILL_QUERIES * PREFILL_KEYS; i += blockDim.x) {
            int qi = i / PREFILL_KEYS;
            int j = i - qi * PREFILL_KEYS;
            float s = BLLM_NEG_INF;
            if (qi < count && j < n && c0 + j <= positions[first + qi]) {
                float dot = 0.0f;
                for (int d = 0; d < head_dim; d++) {
                    dot += qs[qi * head_dim + d] * ks[j * stride + d];
                }
                s = dot * scale;
            }
            ps[i] = s;
        }
        __syncthreads();
        if (threadIdx.x < PREFILL_QUERIES) {
            int qi = threadIdx.x;
            float m_old = run_max[qi];
            float m_new = m_old;
            for (int j = 0; j < PREFILL_KEYS; j++) {
                m_new = fmaxf(m_new, ps[qi * PREFILL_KEYS + j]);
            }
            float a = 1.0f;
            float sum = 0.0f;
            if (m_new != BLLM_NEG_INF) {
                a = expf(m_old - m_new);
                for (int j = 0; j < PREFILL_KEYS; j++) {
                    float p = expf(ps[qi * PREFILL_KEYS + j] - m_new);
                    ps[qi * PREFILL_KEYS + j] = p;
                    sum += p;
                }
            } else {
                for (int j = 0; j < PREFILL_KEYS; j++) {
                    ps[qi * PREFILL_KEYS + j] = 0.0f;
                }
            }
            run_max[qi] = m_new;
            run_sum[qi] = run_sum[qi] * a + sum;
            alpha[qi] = a;
        }
        __syncthreads();
        owned = 0;
        for (int e = threadIdx.x; e < PREFILL_QUERIES * head_dim; e += blockDim.x) {
            int qi = e / head_dim;
            int d = e - qi * head_dim;
            float v = acc[owned] * alpha[qi];
            for (int j = 0; j < PREFILL_KEYS; j++) {
                v += ps[qi * PREFILL_KEYS + j] * vs[j * stride + d];
            }
            acc[owned++] = v;
        }
        __syncthreads();
    }
    owned = 0;
    for (int e = threadIdx.x; e < PREFILL_QUERIES * head_dim; e += blockDim.x) {
        int qi = e / head_dim;
        int d = e - qi * head_dim;
        if (qi < count) {
            out[(long long) (first + qi) * n_heads * head_dim + h * head_dim + d] = float_to_bf16(acc[owned] / run_sum[qi]);
        }
        owned++;
    }
}
