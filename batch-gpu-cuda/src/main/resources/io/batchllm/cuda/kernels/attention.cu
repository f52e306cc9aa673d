// Paged causal attention with grouped-query heads, one kernel for every token of a step: decodes and
// prefill chunks alike. Every token attends to positions [0, its position] of its own sequence, found
// through the sequence's block table; query head h reads KV head h / (n_heads / n_kv_heads). Queries
// come from the fused qkv rows (after rope_kv_write); the output is bf16 [tokens][n_heads * head_dim],
// the input of the output projection.
//
// One kernel for all tokens is what makes a token's result independent of how it was scheduled:
// alone or among others, as a decode or inside a prompt chunk of any length, first computed or
// recomputed after a preemption. Each query's keys are visited in chunks of ATTN_KEYS positions
// starting at position 0 and grouped in splits of split_len positions (a multiple of ATTN_KEYS), the
// same for every query at a given position; positions a query may not see add exact zeros. So the
// sequence of float operations that produces a query's output depends on its position alone.
//
// KV cache layout: see rope_kv_write.

#define ATTN_QUERIES 16
#define ATTN_KEYS 32
#define ATTN_MAX_ACC 32

__device__ __forceinline__ long long kv_at(const int* table, int p, int block_size, int n_kv_heads, int kv_head,
                                          int head_dim) {
    int block = table[p / block_size];
    return (((long long) block * n_kv_heads + kv_head) * block_size + p % block_size) * head_dim;
}

/**
 * Grid (tiles, n_heads, splits), one block per (tile, head, split). A tile is 1 to ATTN_QUERIES
 * consecutive tokens of one sequence (tile_first_token, tile_token_count): a decode is a tile of one,
 * a prompt chunk is cut into tiles, so each chunk of keys and values is loaded into shared memory once
 * for all the tile's queries. Within split s (positions [s * split_len, (s + 1) * split_len)), each
 * query keeps a running max, sum and accumulator (online softmax) over the chunks. A query whose
 * context fits in one split writes its output here; one that needs several writes each split's
 * accumulator, max and sum, and attention_combine merges them. Splits past a tile's context return
 * at once, so the grid's split count (the most any token of the model needs) costs nothing for short
 * contexts.
 *
 * Needs ATTN_QUERIES * head_dim <= ATTN_MAX_ACC * blockDim.x (head_dim 256 with 128 threads).
 * Dynamic shared memory: floats for K and V chunks (2 * ATTN_KEYS * (head_dim + 1)), the queries
 * (ATTN_QUERIES * head_dim), the scores (ATTN_QUERIES * ATTN_KEYS) and 3 * ATTN_QUERIES.
 * partial_acc: [tokens][n_heads][splits][head_dim]; partial_ml: [tokens][n_heads][splits][2].
 */
extern "C" __global__ void attention(bf16* out, float* partial_acc, float* partial_ml, const float* qkv,
                                     const bf16* k_cache, const bf16* v_cache, const int* positions,
                                     const int* token_seq, const int* block_tables, int block_table_stride,
                                     const int* tile_first_token, const int* tile_token_count, int n_heads,
                                     int n_kv_heads, int head_dim, int block_size, int split_len, float scale) {
    BLLM_DYNAMIC_SHARED(float, smem);
    if (ATTN_QUERIES * head_dim > ATTN_MAX_ACC * (int) blockDim.x) {
        __trap();  // too few threads to hold the tile's accumulators: a launcher bug, never a silent result
    }
    int first = tile_first_token[blockIdx.x];
    int count = tile_token_count[blockIdx.x];
    int h = blockIdx.y;
    int split = blockIdx.z;
    int splits = gridDim.z;
    // the tile's tokens sit at consecutive positions: the last one sees the most
    int last_visible = positions[first + count - 1] + 1;
    int from = split * split_len;
    if (from >= last_visible) {
        return;
    }
    int to = min(last_visible, from + split_len);

    int stride = head_dim + 1;  // one float of padding: lanes reading one column hit different banks
    float* ks = smem;
    float* vs = ks + ATTN_KEYS * stride;
    float* qs = vs + ATTN_KEYS * stride;
    float* ps = qs + ATTN_QUERIES * head_dim;
    float* run_max = ps + ATTN_QUERIES * ATTN_KEYS;
    float* run_sum = run_max + ATTN_QUERIES;
    float* alpha = run_sum + ATTN_QUERIES;

    int kv_head = h / (n_heads / n_kv_heads);
    int row_len = (n_heads + 2 * n_kv_heads) * head_dim;
    const int* table = block_tables + (long long) token_seq[first] * block_table_stride;

    for (int i = threadIdx.x; i < count * head_dim; i += blockDim.x) {
        int qi = i / head_dim;
        qs[i] = qkv[(long long) (first + qi) * row_len + h * head_dim + (i - qi * head_dim)];
    }
    if ((int) threadIdx.x < count) {
        run_max[threadIdx.x] = BLLM_NEG_INF;
        run_sum[threadIdx.x] = 0.0f;
    }
    float acc[ATTN_MAX_ACC];
    int owned = 0;
    for (int e = threadIdx.x; e < count * head_dim; e += blockDim.x) {
        acc[owned++] = 0.0f;
    }
    __syncthreads();

    for (int c0 = from; c0 < to; c0 += ATTN_KEYS) {
        int n = min(ATTN_KEYS, to - c0);
        for (int i = threadIdx.x; i < ATTN_KEYS * head_dim; i += blockDim.x) {
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
        for (int i = threadIdx.x; i < count * ATTN_KEYS; i += blockDim.x) {
            int qi = i / ATTN_KEYS;
            int j = i - qi * ATTN_KEYS;
            float s = BLLM_NEG_INF;
            if (j < n && c0 + j <= positions[first + qi]) {
                float dot = 0.0f;
                for (int d = 0; d < head_dim; d++) {
                    dot += qs[qi * head_dim + d] * ks[j * stride + d];
                }
                s = dot * scale;
            }
            ps[i] = s;
        }
        __syncthreads();
        if ((int) threadIdx.x < count) {
            int qi = threadIdx.x;
            float m_old = run_max[qi];
            float m_new = m_old;
            for (int j = 0; j < ATTN_KEYS; j++) {
                m_new = fmaxf(m_new, ps[qi * ATTN_KEYS + j]);
            }
            float a = 1.0f;
            float sum = 0.0f;
            if (m_new != BLLM_NEG_INF) {
                a = expf(m_old - m_new);
                for (int j = 0; j < ATTN_KEYS; j++) {
                    float p = expf(ps[qi * ATTN_KEYS + j] - m_new);
                    ps[qi * ATTN_KEYS + j] = p;
                    sum += p;
                }
            } else {
                for (int j = 0; j < ATTN_KEYS; j++) {
                    ps[qi * ATTN_KEYS + j] = 0.0f;
                }
            }
            run_max[qi] = m_new;
            run_sum[qi] = run_sum[qi] * a + sum;
            alpha[qi] = a;
        }
        __syncthreads();
        owned = 0;
        for (int e = threadIdx.x; e < count * head_dim; e += blockDim.x) {
            int qi = e / head_dim;
            int d = e - qi * head_dim;
            float v = acc[owned] * alpha[qi];
            for (int j = 0; j < ATTN_KEYS; j++) {
                v += ps[qi * ATTN_KEYS + j] * vs[j * stride + d];
            }
            acc[owned++] = v;
        }
        __syncthreads();
    }
    owned = 0;
    for (int e = threadIdx.x; e < count * head_dim; e += blockDim.x) {
        int qi = e / head_dim;
        int d = e - qi * head_dim;
        int t = first + qi;
        int needed = (positions[t] + split_len) / split_len;
        // splits past this query's position saw none of its keys: they write nothing for it
        if (needed == 1 && split == 0) {
            out[(long long) t * n_heads * head_dim + h * head_dim + d] = float_to_bf16(acc[owned] / run_sum[qi]);
        } else if (needed > 1 && split < needed) {
            partial_acc[(((long long) t * n_heads + h) * splits + split) * head_dim + d] = acc[owned];
        }
        owned++;
    }
    if ((int) threadIdx.x < count) {
        int t = first + threadIdx.x;
        int needed = (positions[t] + split_len) / split_len;
        if (needed > 1 && split < needed) {
            long long at = (((long long) t * n_heads + h) * splits + split) * 2;
            partial_ml[at] = run_max[threadIdx.x];
            partial_ml[at + 1] = run_sum[threadIdx.x];
        }
    }
}

/**
 * Merges the splits of attention with the online-softmax rule (m = max m_s, l = sum l_s e^(m_s - m),
 * out = sum acc_s e^(m_s - m) / l): grid (tokens, n_heads); a token needing one split is skipped.
 */
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
