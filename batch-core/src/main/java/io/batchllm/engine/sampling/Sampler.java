package io.batchllm.engine.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks the next token of one sequence (one choice of one request) from a row of logits.
 *
 * <p>The chain, in order (llama.cpp's common sampler chain, except that temperature scales the
 * distribution before top-p and min-p instead of after them, as OpenAI, vLLM and Hugging Face do):
 * <ol>
 *   <li>logit bias: {@code logit[t] += bias[t]};</li>
 *   <li>repetition penalty (vLLM's, Hugging Face's), for every token of the prompt or the generated
 *       tokens: {@code logit[t] = logit[t] > 0 ? logit[t] / penalty : logit[t] * penalty};</li>
 *   <li>penalties, OpenAI's formula over the tokens this sampler generated (never the prompt):
 *       {@code logit[t] -= frequency_penalty * count[t] + presence_penalty * (count[t] > 0 ? 1 : 0)};</li>
 *   <li>while fewer than {@code min_tokens} tokens were generated, the end tokens given at creation
 *       are masked ({@code -Infinity}); so is every token a step's token mask (structured outputs,
 *       {@link #sample(float[], int, float[], long[])}) leaves out. Both are after the logprobs are
 *       taken (below);</li>
 *   <li>if temperature is 0 or top-k is 1: the argmax, ties going to the lowest token id; stop here;</li>
 *   <li>top-k: keep the k highest logits (ties: lower ids first);</li>
 *   <li>softmax with temperature: {@code p[t] ∝ exp(logit[t] / temperature)};</li>
 *   <li>top-p: keep the shortest most-likely-first prefix whose mass reaches top_p (at least one token);</li>
 *   <li>min-p: keep the tokens with {@code p[t] >= min_p * max(p)};</li>
 *   <li>draw from what is left, renormalized, with the uniform number
 *       {@link SplitMix64#uniform}{@code (stream, index)} of this choice's stream and the generated
 *       token's index.</li>
 * </ol>
 *
 * <p><b>Determinism.</b> Each choice has its own random stream, {@link SplitMix64#streamSeed} of the
 * request's {@code seed} and the choice index (see {@link #create}), and generated token {@code i}
 * draws the stream's {@code i}-th number, whatever happened before: a request with a seed therefore
 * draws the same tokens whatever else is batched with it, on whichever device, and after a restart
 * from its first {@code i} tokens (see {@link #create(SamplingParams, int, int, long, int[], int[], int[])}),
 * given the same logits. Candidates are ordered by (logit descending, id ascending), so equal logits
 * never make the outcome depend on iteration order.
 *
 * <p><b>Logprobs</b> are the log-softmax of the logits after bias and penalties but before
 * temperature and truncation: they describe the model (as OpenAI reports them), not the sampling
 * settings, so a token top-p would have cut still gets a finite logprob.
 *
 * <p><b>Memory and threads.</b> Not thread-safe: one instance per sequence, used by one thread at a
 * time. {@link #sample(float[], int, float[])} works in a vocabulary-sized scratch row the caller
 * passes (one per thread, so a device sampling many sequences in parallel needs one per thread, not
 * one per sequence); the other {@code sample} methods allocate one on first use and reuse it. A
 * candidate buffer grows to the largest candidate set seen, so sampling does not allocate
 * vocabulary-sized arrays per token. The input row is never modified. Cost: one {@code Math.exp}
 * per vocabulary entry per non-greedy token (two with logprobs) unless top-k is set; greedy sampling
 * is a copy and a scan.
 */
public final class Sampler {
    private static final int[] NONE = new int[0];

    private final SamplingParams params;
    private final int vocabSize;
    /** This choice's random stream (see {@link SplitMix64#uniform}). */
    private final long stream;
    /** The generated-token index of the next sample: its random number and the min_tokens mask. */
    private long index;
    private final int[] biasTokens;
    private final float[] biasValues;
    /** Generated-token counts, kept only when a penalty is set. */
    private final TokenCounts generated = new TokenCounts();
    /** The prompt's distinct tokens, kept only with a repetition penalty. */
    private final TokenCounts prompt = new TokenCounts();
    /** Masked while fewer than min_tokens tokens were generated. */
    private final int[] endTokens;

    private float[] scratch;
    /** Sorted candidate keys (see {@link RankKeys}) and their weights, both grown as needed. */
    private long[] candidates = new long[0];
    private double[] weights = new double[0];
    private final long[] topLogprobKeys;
    private final float[] topLogprobValues;
    private int topLogprobCount;
    private float logprob = Float.NaN;

    private Sampler(SamplingParams params, int vocabSize, long stream, int[] promptTokens, int[] history,
            int[] endTokens) {
        this.params = params;
        this.vocabSize = vocabSize;
        this.stream = stream;
        this.biasTokens = new int[params.logitBias().size()];
        this.biasValues = new float[biasTokens.length];
        int i = 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            checkToken("logit_bias", e.getKey(), vocabSize);
            biasTokens[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        for (int token : history) {
            checkToken("a generated token", token, vocabSize);
        }
        for (int token : endTokens) {
            checkToken("an end token", token, vocabSize);
        }
        if (params.repetitionPenalty() != 1) {
            for (int token : promptTokens) {
                checkToken("a prompt token", token, vocabSize);
            }
            prompt.addAll(promptTokens);
        }
        if (params.penalized()) {
            generated.addAll(history);
        }
        this.index = history.length;
        this.endTokens = params.minTokens() > index ? endTokens.clone() : NONE;
        int top = params.logprobs() ? params.topLogprobs() : 0;
        this.topLogprobKeys = new long[top];
        this.topLogprobValues = new float[top];
    }

    private static void checkToken(String what, int token, int vocabSize) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException(what + " names token " + token + " but the vocabulary has ids 0 to "
                    + (vocabSize - 1));
        }
    }

    /**
     * A sampler for choice {@code choiceIndex} of a request, from its first token, with no end
     * tokens to mask. With a seed, the stream is {@link SplitMix64#streamSeed}{@code (seed, choiceIndex)},
     * so every choice has its own reproducible stream; without one, the seed is random.
     *
     * @param params the request's sampling settings
     * @param vocabSize the length of a logits row (V)
     * @param choiceIndex 0 to n-1
     * @throws IllegalArgumentException if a logit bias names a token id >= vocabSize
     */
    public static Sampler create(SamplingParams params, int vocabSize, int choiceIndex) {
        Objects.requireNonNull(params, "params");
        long seed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong();
        return create(params, vocabSize, choiceIndex, seed, NONE, NONE, NONE);
    }

    /**
     * A sampler for choice {@code choiceIndex}, seeded with {@code seed} (the request's, or one the
     * caller drew for it), continuing after the tokens it already generated.
     *
     * @param promptTokens the prompt, which the repetition penalty counts (read only when one is set)
     * @param history the tokens this choice generated before (none for a new choice): the penalties
     *     count them, and the next sample is generated token {@code history.length}
     * @param endTokens tokens masked while fewer than {@link SamplingParams#minTokens()} tokens were
     *     generated (end-of-generation tokens, stop token ids)
     * @throws IllegalArgumentException if a logit bias or one of the arrays names a token outside the
     *     vocabulary
     */
    public static Sampler create(SamplingParams params, int vocabSize, int choiceIndex, long seed,
            int[] promptTokens, int[] history, int[] endTokens) {
        Objects.requireNonNull(params, "params");
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        }
        if (choiceIndex < 0 || choiceIndex >= params.n()) {
            throw new IllegalArgumentException("choiceIndex must be between 0 and n-1 = " + (params.n() - 1)
                    + ", got " + choiceIndex);
        }
        return new Sampler(params, vocabSize, SplitMix64.streamSeed(seed, choiceIndex), promptTokens, history,
                endTokens);
    }

    /** {@link #sample(float[], int)} for a row starting at index 0. */
    public SampledToken sample(float[] logits) {
        return sample(logits, 0);
    }

    /**
     * Picks the next token from {@code logits[offset .. offset+V)} and records it in this sequence's
     * history (for the penalties of later tokens).
     *
     * @throws IllegalArgumentException if the row is too short or holds a NaN (a broken forward pass)
     */
    public SampledToken sample(float[] logits, int offset) {
        if (scratch == null) {
            scratch = new float[vocabSize];
        }
        int token = sample(logits, offset, scratch);
        List<TokenLogprob> top = new ArrayList<>(topLogprobCount);
        for (int i = 0; i < topLogprobCount; i++) {
            top.add(new TokenLogprob(topLogprobToken(i), topLogprobValue(i)));
        }
        return new SampledToken(token, logprob, top);
    }

    /**
     * Picks the next token as {@link #sample(float[], int)} does, working in {@code scratch} (at least
     * V floats, overwritten) and allocating nothing; the logprobs are then read from
     * {@link #logprob()}, {@link #topLogprobCount()}, {@link #topLogprobToken} and {@link #topLogprobValue}.
     *
     * @return the token id
     * @throws IllegalArgumentException if the row or the scratch is too short, or the row holds a NaN
     */
    public int sample(float[] logits, int offset, float[] scratch) {
        return sample(logits, offset, scratch, null);
    }

    /**
     * {@link #sample(float[], int, float[])} restricted to the tokens whose bits are set in
     * {@code mask} (bit {@code t % 64} of word {@code t / 64}; see {@link io.batchllm.engine.model.StepPlan}),
     * or to all tokens when it is null. The mask is applied with the {@code min_tokens} mask, after the
     * logprobs are taken.
     *
     * @throws IllegalArgumentException as {@link #sample(float[], int, float[])}, and when the masks
     *     leave no token that can be sampled
     */
    public int sample(float[] logits, int offset, float[] scratch, long[] mask) {
        if (offset < 0 || logits.length - offset < vocabSize) {
            throw new IllegalArgumentException("the logits row needs " + vocabSize + " values from offset "
                    + offset + ", the array has " + logits.length);
        }
        if (scratch.length < vocabSize) {
            throw new IllegalArgumentException("the scratch row needs " + vocabSize + " floats, has " + scratch.length);
        }
        float[] row = adjustedRow(logits, offset, scratch);
        float max = max(row);
        double logNormalizer = 0;
        topLogprobCount = 0;
        if (params.logprobs()) {
            // before the mask and the draw, which overwrites the scratch row with weights
            logNormalizer = logNormalizer(row, max);
            topLogprobs(row, logNormalizer);
        }
        boolean minTokensMask = index < params.minTokens() && endTokens.length > 0;
        if (minTokensMask) {
            for (int token : endTokens) {
                row[token] = Float.NEGATIVE_INFINITY;
            }
        }
        if (mask != null) {
            applyMask(row, mask);
        }
        if (minTokensMask || mask != null) {
            max = maskedMax(row);
        }
        int token = params.greedy() ? argmax(row, 0, vocabSize) : draw(row, max);
        logprob = params.logprobs() ? (float) (adjustedLogit(logits, offset, token) - logNormalizer) : Float.NaN;
        if (params.penalized()) {
            generated.add(token);
        }
        index++;
        return token;
    }

    /** Sets the logit of every token whose bit in {@code mask} is clear to {@code -Infinity}. */
    private void applyMask(float[] row, long[] mask) {
        int words = (vocabSize + 63) >>> 6;
        if (mask.length < words) {
            throw new IllegalArgumentException("the token mask needs " + words + " words for " + vocabSize
                    + " tokens, has " + mask.length);
        }
        for (int w = 0; w < words; w++) {
            long bits = mask[w];
            if (bits == -1L) {
                continue;
            }
            int base = w << 6;
            int end = Math.min(base + 64, vocabSize);
            if (bits == 0) {
                Arrays.fill(row, base, end, Float.NEGATIVE_INFINITY);
                continue;
            }
            for (long excluded = ~bits; excluded != 0; excluded &= excluded - 1) {
                int token = base + Long.numberOfTrailingZeros(excluded);
                if (token >= end) {
                    break;
                }
                row[token] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** The row's maximum after masking: as {@link #max}, but it names the masks when they left nothing. */
    private float maskedMax(float[] row) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            max = Math.max(max, row[i]);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("the token mask (and the min_tokens mask) leave no token that can be"
                    + " sampled");
        }
        return max;
    }

    /** The last sampled token's log-probability, or NaN when the request did not ask for logprobs. */
    public float logprob() {
        return logprob;
    }

    /** How many top logprobs the last sample has ({@link SamplingParams#topLogprobs()}, or 0 without logprobs). */
    public int topLogprobCount() {
        return topLogprobCount;
    }

    /** The last sample's {@code i}-th most likely token (ties: lower id first). */
    public int topLogprobToken(int i) {
        return RankKeys.id(topLogprobKeys[i]);
    }

    /** The log-probability of {@link #topLogprobToken(int) topLogprobToken(i)}. */
    public float topLogprobValue(int i) {
        return topLogprobValues[i];
    }

    /**
     * The index of the largest value in {@code row[offset .. offset+length)}, relative to
     * {@code offset}; ties go to the lowest index. Engines that pick greedy tokens elsewhere (for
     * example on a GPU) should break ties the same way.
     */
    public static int argmax(float[] row, int offset, int length) {
        int best = 0;
        float bestValue = row[offset];
        for (int i = 1; i < length; i++) {
            // strictly greater: an equal value later in the row never replaces the earlier, lower id
            if (row[offset + i] > bestValue) {
                bestValue = row[offset + i];
                best = i;
            }
        }
        return best;
    }

    /** Steps 1-3: a copy of the row with bias and penalties applied. */
    private float[] adjustedRow(float[] logits, int offset, float[] row) {
        System.arraycopy(logits, offset, row, 0, vocabSize);
        for (int i = 0; i < biasTokens.length; i++) {
            row[biasTokens[i]] += biasValues[i];
        }
        if (!params.penalized()) {
            return row;
        }
        if (params.repetitionPenalty() != 1) {
            float penalty = (float) params.repetitionPenalty();
            for (int i = 0; i < generated.size(); i++) {
                row[generated.token(i)] = repetition(row[generated.token(i)], penalty);
            }
            for (int i = 0; i < prompt.size(); i++) {
                int token = prompt.token(i);
                if (generated.countOf(token) == 0) {
                    row[token] = repetition(row[token], penalty);
                }
            }
        }
        float frequency = (float) params.frequencyPenalty();
        float presence = (float) params.presencePenalty();
        if (frequency != 0 || presence != 0) {
            for (int i = 0; i < generated.size(); i++) {
                row[generated.token(i)] -= frequency * generated.count(i) + presence;
            }
        }
        return row;
    }

    private static float repetition(float logit, float penalty) {
        return logit > 0 ? logit / penalty : logit * penalty;
    }

    private float max(float[] row) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            float v = row[i];
            if (Float.isNaN(v)) {
                throw new IllegalArgumentException("logit of token " + i + " is NaN: the forward pass produced an invalid row");
            }
            max = Math.max(max, v);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -Infinity: no token can be sampled");
        }
        return max;
    }

    /**
     * Token {@code token}'s logit after bias and penalties, recomputed from the input row with the
     * same float operations as {@link #adjustedRow} (so it is bit-identical) because the draw has
     * overwritten the scratch copy.
     */
    private float adjustedLogit(float[] logits, int offset, int token) {
        float value = logits[offset + token];
        for (int i = 0; i < biasTokens.length; i++) {
            if (biasTokens[i] == token) {
                value += biasValues[i];
            }
        }
        if (!params.penalized()) {
            return value;
        }
        int count = generated.countOf(token);
        if (params.repetitionPenalty() != 1 && (count > 0 || prompt.countOf(token) > 0)) {
            value = repetition(value, (float) params.repetitionPenalty());
        }
        float frequency = (float) params.frequencyPenalty();
        float presence = (float) params.presencePenalty();
        if (count > 0 && (frequency != 0 || presence != 0)) {
            value -= frequency * count + presence;
        }
        return value;
    }

    /**
     * Steps 6-10. Each token's weight {@code exp((logit - max) / temperature)} (1 for the most likely)
     * is computed once: Math.exp over the vocabulary is the main cost of sampling on the CPU.
     * The scratch row is overwritten with weights where the whole vocabulary is weighed.
     */
    private int draw(float[] row, float max) {
        double invTemperature = 1.0 / params.temperature();
        int count;
        double totalWeight;
        if (params.topK() > 0 && params.topK() < vocabSize) {
            count = RankKeys.selectBest(row, vocabSize, params.topK(), candidates(params.topK()));
            totalWeight = 0;
            for (int i = 0; i < count; i++) {
                weights[i] = Math.exp((row[RankKeys.id(candidates[i])] - max) * invTemperature);
                totalWeight += weights[i];
            }
        } else {
            totalWeight = toWeights(row, max, invTemperature);
            if (params.topP() == 1 && params.minP() == 0) {
                return drawInIdOrder(row, totalWeight);
            }
            count = collectPossibleSurvivors(row, totalWeight);
        }
        int kept = truncate(count, totalWeight);
        double keptWeight = 0;
        for (int i = 0; i < kept; i++) {
            keptWeight += weights[i];
        }
        double target = SplitMix64.uniform(stream, index) * keptWeight;
        double cumulative = 0;
        for (int i = 0; i < kept - 1; i++) {
            cumulative += weights[i];
            if (target < cumulative) {
                return RankKeys.id(candidates[i]);
            }
        }
        // rounding can leave target just above the last partial sum: the last kept token that has
        // weight takes it (masked tokens among the candidates have none)
        int last = kept - 1;
        while (last > 0 && weights[last] == 0) {
            last--;
        }
        return RankKeys.id(candidates[last]);
    }

    /** Replaces each logit by its weight and returns their sum. */
    private double toWeights(float[] row, float max, double invTemperature) {
        double total = 0;
        for (int i = 0; i < vocabSize; i++) {
            float weight = (float) Math.exp((row[i] - max) * invTemperature);
            row[i] = weight;
            total += weight;
        }
        return total;
    }

    /** Temperature only: no sort needed, walk the weights in id order. */
    private int drawInIdOrder(float[] weightRow, double totalWeight) {
        double target = SplitMix64.uniform(stream, index) * totalWeight;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (weightRow[i] > 0) {
                cumulative += weightRow[i];
                last = i;
                if (target < cumulative) {
                    return i;
                }
            }
        }
        return last;
    }

    /**
     * Top-p and min-p without top-k, sorting only what can survive: the top-p bound only ever keeps
     * tokens with {@code p >= (1 - top_p) / (V - 1)} (the rest together hold less than
     * {@code 1 - top_p}, so the nucleus is complete before them) and min-p keeps
     * {@code p >= min_p * p_max}, where p_max has weight 1. Collects the tokens passing both bounds
     * (loosened slightly against rounding; extra candidates change nothing) and sorts them, most
     * likely first.
     */
    private int collectPossibleSurvivors(float[] weightRow, double totalWeight) {
        double bound = params.minP();
        if (params.topP() < 1 && vocabSize > 1) {
            bound = Math.max(bound, (1 - params.topP()) / (vocabSize - 1) * totalWeight);
        }
        // the most likely token has weight exactly 1 and must always pass
        bound = Math.min(bound * 0.999, 1);
        int count = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (weightRow[i] >= bound) {
                candidates(count + 1)[count++] = RankKeys.key(weightRow[i], i);
            }
        }
        Arrays.sort(candidates, 0, count);
        for (int i = 0; i < count; i++) {
            weights[i] = weightRow[RankKeys.id(candidates[i])];
        }
        return count;
    }

    /** Steps 8-9 on sorted candidates: how many of the first ones survive top-p and min-p (at least 1). */
    private int truncate(int count, double totalWeight) {
        int kept = count;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += weights[i];
                if (cumulative >= params.topP() * totalWeight) {
                    kept = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            // in weight units min_p * p_max is min_p * weights[0]
            double bound = params.minP() * weights[0];
            int i = 1;
            while (i < kept && weights[i] >= bound) {
                i++;
            }
            kept = i;
        }
        return Math.max(kept, 1);
    }

    /** The candidate buffer, grown (with its weights) to hold at least {@code needed} entries. */
    private long[] candidates(int needed) {
        if (candidates.length < needed) {
            int size = Math.max(needed, Math.min(vocabSize, Math.max(64, 2 * candidates.length)));
            candidates = Arrays.copyOf(candidates, size);
            weights = new double[size];
        }
        return candidates;
    }

    /** log(sum(exp(logit))) at temperature 1: the normalizer of the model's distribution. */
    private double logNormalizer(float[] row, float max) {
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            sum += Math.exp(row[i] - max);
        }
        return max + Math.log(sum);
    }

    private void topLogprobs(float[] row, double logNormalizer) {
        topLogprobCount = RankKeys.selectBest(row, vocabSize, topLogprobKeys.length, topLogprobKeys);
        for (int i = 0; i < topLogprobCount; i++) {
            topLogprobValues[i] = (float) (row[RankKeys.id(topLogprobKeys[i])] - logNormalizer);
        }
    }
}
