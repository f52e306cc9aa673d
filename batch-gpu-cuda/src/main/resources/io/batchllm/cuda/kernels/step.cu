// The executor's bookkeeping on the device, around the forward pass: what a step changes in the
// per-slot state that stays on the GPU (block tables, the sampled token a decode feeds back, the
// token counts of the penalties), so that the host sends only the changes.

/**
 * A decode that feeds back its slot's last sample: tokens[feedback_at[i]] = last_token[feedback_slot[i]]
 * for i < n. A slot whose last sample failed (-1) runs token 0; the engine discards its results.
 */
extern "C" __global__ void feedback_tokens(int* tokens, const int* feedback_at, const int* feedback_slot,
                                           const int* last_token, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int t = last_token[feedback_slot[i]];
        tokens[feedback_at[i]] = t < 0 ? 0 : t;
    }
}

/**
 * Blocks appended to block tables: entry i of the n (slot, index, block) triples sets
 * block_tables[slot * stride + index] = block.
 */
extern "C" __global__ void append_blocks(int* block_tables, int stride, const int* triples, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const int* e = triples + 3 * i;
        block_tables[(long long) e[0] * stride + e[1]] = e[2];
    }
}

/**
 * A penalized sequence's history, when it takes a slot: one block per start. Start i is described by
 * info[5 i .. 5 i + 5) = (slot, prompt_from, prompt_count, generated_from, generated_count) over
 * `tokens`. Its counts row (generated-token counts) is set from the generated tokens, and its prompt
 * mask row (one bit per vocabulary entry) from the prompt (none when the sequence has no repetition
 * penalty: prompt_count is 0 then). Thread 0 does the counting, in order: counts need no atomics, and
 * this runs once per sequence.
 */
extern "C" __global__ void init_history(int* counts, unsigned int* prompt_mask, const int* tokens, const int* info,
                                        int vocab) {
    const int* s = info + 5 * blockIdx.x;
    int words = (vocab + 31) / 32;
    int* count = counts + (long long) s[0] * vocab;
    unsigned int* mask = prompt_mask + (long long) s[0] * words;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        count[i] = 0;
    }
    for (int i = threadIdx.x; i < words; i += blockDim.x) {
        mask[i] = 0u;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int i = 0; i < s[2]; i++) {
            int t = tokens[s[1] + i];
            mask[t >> 5] |= 1u << (t & 31);
        }
        for (int i = 0; i < s[4]; i++) {
            count[tokens[s[3] + i]] += 1;
        }
    }
}
