// On-device sampling: one block per logits row (a sequence that wants its next token). Reproduces the
// CPU's io.batchllm.engine.sampling.Sampler: the same chain, the same candidate order and the same
// draw rule, with the random number taken from (seed, choice, generated-token index):
//   1. logit bias; 2. penalties (repetition, then frequency and presence over generated tokens);
//   (logprobs are taken here); the min_tokens mask of the end tokens and the row's token mask (structured
//   outputs: the tokens whose bit is clear);
//   3. greedy (temperature 0 or top-k 1): the argmax, ties to the lowest id;
//   4. top-k by (logit desc, id asc); 5. weights exp((logit - max) / temperature);
//   6. top-p: the shortest most-likely-first prefix reaching top_p of the mass; 7. min-p;
//   8. target = u * kept mass, the first candidate (in rank order) whose running sum passes it.
// Sums run in tree order rather than the CPU's left to right, so a draw can differ from the CPU's
// only when the target falls within rounding (about 1e-16 of the mass) of a candidate boundary.
// Ranking and the searches use the CPU's RankKeys: (~ordered(value bits) << 32) | id, smallest
// first; candidate sets are found by binary search over that key space instead of sorting.
//
// Logprobs are the log-softmax of the adjusted logits (after bias and penalties, before temperature).

#define SAMPLE_GREEDY 1
#define SAMPLE_LOGPROBS 2
#define SAMPLE_PENALTIES 4
#define SAMPLE_REPETITION 8
#define SAMPLE_MAX_TOP 20
#define SAMPLE_NO_KEY 0xffffffffffffffffULL

#define SAMPLE_OK 0
#define SAMPLE_NAN 1
#define SAMPLE_ALL_NEG_INF 2

#define SPLITMIX_GAMMA 0x9E3779B97F4A7C15ULL

/** A slot's sampling settings; Java writes them with SamplingSlots (same offsets, little-endian). */
struct SamplingParams {
    u64 seed;                  //  0
    double temperature;        //  8
    double top_p;              // 16
    double min_p;              // 24
    float presence_penalty;    // 32
    float frequency_penalty;   // 36
    float repetition_penalty;  // 40
    int top_k;                 // 44: 0 = off
    int choice;                // 48
    int top_logprobs;          // 52: alternatives to report, 0 to SAMPLE_MAX_TOP
    int flags;                 // 56: SAMPLE_*
    int bias_offset;           // 60: first entry of this slot in bias_tokens / bias_values
    int bias_count;            // 64
    int min_tokens;            // 68: the end tokens are masked while fewer were generated
    int end_offset;            // 72: first entry of this slot in end_tokens
    int end_count;             // 76
};                             // 80 bytes

#ifdef BATCHLLM_EMULATOR
/** The struct's size and field offsets as the compiler lays them out, for the test of SamplingSlots. */
extern "C" void sampling_params_layout(long long* out) {
    out[0] = sizeof(SamplingParams);
    out[1] = offsetof(SamplingParams, seed);
    out[2] = offsetof(SamplingParams, temperature);
    out[3] = offsetof(SamplingParams, top_p);
    out[4] = offsetof(SamplingParams, min_p);
    out[5] = offsetof(SamplingParams, presence_penalty);
    out[6] = offsetof(SamplingParams, frequency_penalty);
    out[7] = offsetof(SamplingParams, repetition_penalty);
    out[8] = offsetof(SamplingParams, top_k);
    out[9] = offsetof(SamplingParams, choice);
    out[10] = offsetof(SamplingParams, top_logprobs);
    out[11] = offsetof(SamplingParams, flags);
    out[12] = offsetof(SamplingParams, bias_offset);
    out[13] = offsetof(SamplingParams, bias_count);
    out[14] = offsetof(SamplingParams, min_tokens);
    out[15] = offsetof(SamplingParams, end_offset);
    out[16] = offsetof(SamplingParams, end_count);
}
#endif

__host__ __device__ __forceinline__ u64 splitmix_mix(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/**
 * The uniform double in [0, 1) of generated token `index` of choice `choice`: the CPU sampler's
 * SplitMix64 stream for (seed, choice) advanced to its (index+1)-th output, in closed form
 * (state = streamSeed + (index+1) * GAMMA), top 53 bits.
 */
__host__ __device__ __forceinline__ double sample_uniform(u64 seed, int choice, int index) {
    u64 stream = splitmix_mix(seed + (u64) (choice + 1) * SPLITMIX_GAMMA);
    u64 bits = splitmix_mix(stream + (u64) (index + 1) * SPLITMIX_GAMMA);
    return (double) (bits >> 11) * (1.0 / 9007199254740992.0);
}

/**
 * RankKeys.key: higher value first, then lower id. Java compares those keys as signed longs; flipping
 * the top bit makes unsigned order here the same order.
 */
__host__ __device__ __forceinline__ u64 rank_key(float value, int id) {
    int bits = __float_as_int(value);
    int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
    return (((u64) (unsigned int) ~ordered << 32) | (u64) (unsigned int) id) ^ 0x8000000000000000ULL;
}

__device__ __forceinline__ int key_id(u64 key) {
    return (int) (unsigned int) key;
}

/** The smallest key k of the candidates (key != SAMPLE_NO_KEY) with count(key <= k) >= n. */
__device__ u64 search_count(const u64* keys, int vocab, int n, double* scratch) {
    u64 lo = 0;
    u64 hi = SAMPLE_NO_KEY - 1;
    while (lo < hi) {
        u64 mid = lo + (hi - lo) / 2;
        double c = 0;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            c += keys[i] <= mid ? 1.0 : 0.0;
        }
        if (block_sum_d(c, scratch) >= (double) n) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/**
 * The smallest key k of the candidates with mass(key <= k) >= threshold (strict: > when `strictly`),
 * or the largest candidate key when no key gets there (the CPU's "rounding left the target past the
 * last partial sum" case).
 */
__device__ u64 search_mass(const u64* keys, const double* weights, int vocab, double threshold, int strictly,
                           u64 last_key, double* scratch) {
    u64 lo = 0;
    u64 hi = last_key;
    while (lo < hi) {
        u64 mid = lo + (hi - lo) / 2;
        double m = 0;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            if (keys[i] <= mid) {
                m += weights[i];
            }
        }
        m = block_sum_d(m, scratch);
        if (strictly ? m > threshold : m >= threshold) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/**
 * Temperature alone: the CPU walks the weights in id order and takes the first id whose running sum
 * passes the target (the last id with a weight when rounding leaves the target past the end). Each
 * thread walks a contiguous range of ids from the sum of the ranges before it.
 */
__device__ int draw_in_id_order(const double* w, int vocab, double target, double* dscratch, u64* kscratch) {
    int chunk = (vocab + blockDim.x - 1) / blockDim.x;
    int from = min(vocab, (int) threadIdx.x * chunk);
    int to = min(vocab, from + chunk);
    double sum = 0.0;
    for (int i = from; i < to; i++) {
        sum += w[i];
    }
    dscratch[threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        double running = 0.0;
        for (unsigned int i = 0; i < blockDim.x; i++) {
            double s = dscratch[i];
            dscratch[i] = running;
            running += s;
        }
    }
    __syncthreads();
    double cumulative = dscratch[threadIdx.x];
    __syncthreads();
    u64 found = SAMPLE_NO_KEY;
    u64 last = SAMPLE_NO_KEY;  // as ~id, so that the smallest is the largest id
    for (int i = from; i < to; i++) {
        if (w[i] > 0.0) {
            cumulative += w[i];
            last = ~(u64) i;
            if (target < cumulative) {
                found = (u64) i;
                break;
            }
        }
    }
    found = block_min_u64(found, kscratch);
    last = block_min_u64(last, kscratch);
    return found != SAMPLE_NO_KEY ? (int) found : (int) ~last;
}

/**
 * Samples rows [0, gridDim.x). Row r belongs to slot row_slot[r] (its SamplingParams, its count row)
 * and is the sequence's generated token number row_gen_index[r] (0 for the first): its random number,
 * and whether its end tokens (end_tokens[end_offset, end_offset + end_count)) are still masked. When
 * row_masked (null for none) has 1 at r, token_masks [rows][(vocab + 63) / 64] (bit t % 64 of word t / 64, set when token
 * t may be sampled) restricts row r's sample to its tokens, as the StepPlan's mask says.
 *
 * logits [rows][vocab] is adjusted in place. keys [rows][vocab] (u64) and weights [rows][vocab] (double)
 * are scratch.
 * counts [slots][vocab] (null when no slot is penalized) holds each slot's generated-token counts and
 * is incremented here; prompt_mask [slots][(vocab + 31) / 32] (may be null) marks the prompt tokens
 * the repetition penalty also applies to. Outputs per row: the token (-1 on error), its logprob (NaN
 * without logprobs), up to SAMPLE_MAX_TOP alternatives, and a SAMPLE_* status; and per slot (when
 * last_token is not null) the token again, which the slot's next decode feeds back.
 */
extern "C" __global__ void sample_tokens(int* out_token, float* out_logprob, int* out_top_ids, float* out_top_logprobs,
                                         int* out_status, int* last_token, float* logits, u64* keys, double* weights,
                                         const SamplingParams* params, const int* row_slot, const int* row_gen_index,
                                         int* counts, const unsigned int* prompt_mask, const int* bias_tokens,
                                         const float* bias_values, const int* end_tokens, const u64* token_masks,
                                         const int* row_masked, int vocab) {
    __shared__ double dscratch[BLLM_MAX_THREADS];
    __shared__ float fscratch[BLLM_MAX_THREADS];
    __shared__ u64 kscratch[BLLM_MAX_THREADS];
    int r = blockIdx.x;
    int slot = row_slot[r];
    SamplingParams p = params[slot];
    float* row = logits + (long long) r * vocab;
    u64* key = keys + (long long) r * vocab;
    double* w = weights + (long long) r * vocab;
    int* count = counts != 0 ? counts + (long long) slot * vocab : 0;
    const unsigned int* prompt = prompt_mask != 0 ? prompt_mask + (long long) slot * ((vocab + 31) / 32) : 0;

    // 1-2. bias, penalties (float operations in the CPU's order, not contracted into FMAs)
    if (threadIdx.x == 0) {
        for (int b = 0; b < p.bias_count; b++) {
            int tok = bias_tokens[p.bias_offset + b];
            row[tok] = __fadd_rn(row[tok], bias_values[p.bias_offset + b]);
        }
    }
    __syncthreads();
    if (count != 0 && (p.flags & (SAMPLE_PENALTIES | SAMPLE_REPETITION))) {
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            int c = count[i];
            if ((p.flags & SAMPLE_REPETITION) && (c > 0 || (prompt != 0 && ((prompt[i >> 5] >> (i & 31)) & 1u)))) {
                row[i] = row[i] > 0.0f ? row[i] / p.repetition_penalty : __fmul_rn(row[i], p.repetition_penalty);
            }
            if ((p.flags & SAMPLE_PENALTIES) && c > 0) {
                row[i] = __fsub_rn(row[i], __fadd_rn(__fmul_rn(p.frequency_penalty, (float) c), p.presence_penalty));
            }
        }
    }
    __syncthreads();

    // max, and the CPU's refusals: a NaN logit, or nothing finite to sample
    float local_max = BLLM_NEG_INF;
    float nans = 0.0f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (v != v) {
            nans += 1.0f;
        } else {
            local_max = fmaxf(local_max, v);
        }
    }
    float max = block_max_f(local_max, fscratch);
    nans = block_sum_f(nans, fscratch);
    if (nans > 0.0f || max == BLLM_NEG_INF) {
        if (threadIdx.x == 0) {
            out_token[r] = -1;
            out_status[r] = nans > 0.0f ? SAMPLE_NAN : SAMPLE_ALL_NEG_INF;
            if (last_token != 0) {
                last_token[slot] = -1;
            }
        }
        return;
    }

    // logprobs: normalizer and the best alternatives, before the draw overwrites anything
    double log_z = 0.0;
    if (p.flags & SAMPLE_LOGPROBS) {
        double s = 0.0;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            s += exp((double) (row[i] - max));
        }
        log_z = (double) max + log(block_sum_d(s, dscratch));
        u64 previous = 0;
        for (int k = 0; k < p.top_logprobs && k < vocab; k++) {
            u64 best = SAMPLE_NO_KEY;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                u64 kk = rank_key(row[i], i);
                if ((k == 0 || kk > previous) && kk < best) {
                    best = kk;
                }
            }
            best = block_min_u64(best, kscratch);
            previous = best;
            if (threadIdx.x == 0) {
                int id = key_id(best);
                out_top_ids[r * SAMPLE_MAX_TOP + k] = id;
                out_top_logprobs[r * SAMPLE_MAX_TOP + k] = (float) ((double) row[id] - log_z);
            }
        }
    }

    // min_tokens: the end tokens cannot be drawn yet; the token mask: only its tokens can (both after
    // the logprobs, which describe the model)
    int min_tokens_mask = row_gen_index[r] < p.min_tokens && p.end_count > 0;
    int token_mask = row_masked != 0 && row_masked[r];
    if (min_tokens_mask || token_mask) {
        __syncthreads();
        if (threadIdx.x == 0 && min_tokens_mask) {
            for (int e = 0; e < p.end_count; e++) {
                row[end_tokens[p.end_offset + e]] = BLLM_NEG_INF;
            }
        }
        if (token_mask) {
            const u64* words = token_masks + (long long) r * ((vocab + 63) / 64);
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                if (!((words[i >> 6] >> (i & 63)) & 1ULL)) {
                    row[i] = BLLM_NEG_INF;
                }
            }
        }
        __syncthreads();
        local_max = BLLM_NEG_INF;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            local_max = fmaxf(local_max, row[i]);
        }
        max = block_max_f(local_max, fscratch);
        if (max == BLLM_NEG_INF) {
            if (threadIdx.x == 0) {
                out_token[r] = -1;
                out_status[r] = SAMPLE_ALL_NEG_INF;
                if (last_token != 0) {
                    last_token[slot] = -1;
                }
            }
            return;
        }
    }

    int token;
    if (p.flags & SAMPLE_GREEDY) {
        u64 best = SAMPLE_NO_KEY;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            u64 kk = rank_key(row[i] + 0.0f, i);  // + 0.0f: -0.0 ties with 0.0, as the CPU's argmax has it
            if (kk < best) {
                best = kk;
            }
        }
        token = key_id(block_min_u64(best, kscratch));
    } else {
        double u = sample_uniform(p.seed, p.choice, row_gen_index[r]);
        double inv_t = 1.0 / p.temperature;
        double total;
        if (p.top_k > 0 && p.top_k < vocab) {
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                key[i] = rank_key(row[i], i);
            }
            __syncthreads();
            u64 kth = search_count(key, vocab, p.top_k, dscratch);
            double t = 0.0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                if (key[i] <= kth) {
                    // the CPU keeps top-k weights in double
                    double wi = exp((double) (row[i] - max) * inv_t);
                    w[i] = wi;
                    t += wi;
                } else {
                    key[i] = SAMPLE_NO_KEY;
                    w[i] = 0.0;
                }
            }
            total = block_sum_d(t, dscratch);
        } else {
            double t = 0.0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                // the CPU keeps these weights in its float scratch row
                float wi = (float) exp((double) (row[i] - max) * inv_t);
                w[i] = (double) wi;
                t += (double) wi;
            }
            total = block_sum_d(t, dscratch);
            double bound = p.min_p;
            if (p.top_p < 1.0 && vocab > 1) {
                bound = fmax(bound, (1.0 - p.top_p) / (double) (vocab - 1) * total);
            }
            bound = fmin(bound * 0.999, 1.0);
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                key[i] = w[i] >= bound ? rank_key((float) w[i], i) : SAMPLE_NO_KEY;
            }
        }
        __syncthreads();
        if (!(p.top_k > 0 && p.top_k < vocab) && p.top_p == 1.0 && p.min_p == 0.0) {
            token = draw_in_id_order(w, vocab, u * total, dscratch, kscratch);
        } else {
            u64 best = SAMPLE_NO_KEY;
            u64 last = 0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                if (key[i] != SAMPLE_NO_KEY) {
                    best = key[i] < best ? key[i] : best;
                    last = key[i] > last ? key[i] : last;
                }
            }
            best = block_min_u64(best, kscratch);
            last = ~block_min_u64(~last, kscratch);
            u64 cut = last;
            if (p.top_p < 1.0) {
                cut = search_mass(key, w, vocab, p.top_p * total, 0, last, dscratch);
            }
            // min-p: the CPU keeps the best candidate and those after it with weight >= min_p * its weight
            double min_w = p.min_p * w[key_id(best)];
            double kept = 0.0;
            u64 kept_last = 0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                if (key[i] != SAMPLE_NO_KEY) {
                    if (key[i] > cut || (p.min_p > 0.0 && key[i] != best && w[i] < min_w)) {
                        key[i] = SAMPLE_NO_KEY;
                    } else {
                        kept += w[i];
                        kept_last = key[i] > kept_last ? key[i] : kept_last;
                    }
                }
            }
            kept = block_sum_d(kept, dscratch);
            kept_last = ~block_min_u64(~kept_last, kscratch);
            __syncthreads();
            token = key_id(search_mass(key, w, vocab, u * kept, 1, kept_last, dscratch));
        }
    }

    if (threadIdx.x == 0) {
        out_token[r] = token;
        out_status[r] = SAMPLE_OK;
        if (last_token != 0) {
            last_token[slot] = token;
        }
        out_logprob[r] = (p.flags & SAMPLE_LOGPROBS) ? (float) ((double) row[token] - log_z) : __int_as_float(0x7fc00000);
        if (count != 0 && (p.flags & (SAMPLE_PENALTIES | SAMPLE_REPETITION))) {
            count[token] += 1;
        }
    }
}
