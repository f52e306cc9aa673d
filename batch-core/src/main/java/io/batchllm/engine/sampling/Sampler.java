package io.batchllm.engine.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
 *   <li>penalties, OpenAI's formula over the tokens this sampler generated (never the prompt):
 *       {@code logit[t] -= frequency_penalty * count[t] + presence_penalty * (count[t] > 0 ? 1 : 0)};</li>
 *   <li>if temperature is 0 or top-k is 1: the argmax, ties going to the lowest token id; stop here;</li>
 *   <li>top-k: keep the k highest logits (ties: lower ids first);</li>
 *   <li>softmax with temperature: {@code p[t] ∝ exp(logit[t] / temperature)};</li>
 *   <li>top-p: keep the shortest most-likely-first prefix whose mass reaches top_p (at least one token);</li>
 *   <li>min-p: keep the tokens with {@code p[t] >= min_p * max(p)};</li>
 *   <li>draw from what is left, renormalized, with this sampler's {@link SplitMix64} stream.</li>
 * </ol>
 *
 * <p><b>Determinism.</b> Each sampler has its own random stream, seeded from the request's
 * {@code seed} and the choice index (see {@link #create}), and consumes exactly one number per
 * non-greedy token. A request with a seed therefore draws the same tokens whatever else is batched
 * with it, given the same logits. Candidates are ordered by (logit descending, id ascending), so
 * equal logits never make the outcome depend on iteration order.
 *
 * <p><b>Logprobs</b> are the log-softmax of the logits after bias and penalties but before
 * temperature and truncation: they describe the model (as OpenAI reports them), not the sampling
 * settings, so a token top-p would have cut still gets a finite logprob.
 *
 * <p><b>Memory and threads.</b> Not thread-safe: one instance per sequence, used by one thread at a
 * time. It keeps a vocabulary-sized float scratch row (allocated on first use, reused after; 4 bytes
 * per vocabulary entry, 0.5 MB for a 128k vocabulary) and a candidate buffer that grows to the
 * largest candidate set seen, so sampling does not allocate vocabulary-sized arrays per token. The
 * input row is never modified. Cost: one {@code Math.exp} per vocabulary entry per non-greedy token
 * (two with logprobs) unless top-k is set; greedy sampling is a copy and a scan.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final SplitMix64 random;
    private final int[] biasTokens;
    private final float[] biasValues;
    /** Generated-token counts, kept only when a penalty is set; sparse because few distinct tokens occur. */
    private final Map<Integer, Integer> generatedCounts = new HashMap<>();

    private float[] scratch;
    /** Sorted candidate keys (see {@link RankKeys}) and their weights, both grown as needed. */
    private long[] candidates = new long[0];
    private double[] weights = new double[0];
    private final long[] topLogprobKeys;

    private Sampler(SamplingParams params, int vocabSize, long streamSeed) {
        this.params = params;
        this.vocabSize = vocabSize;
        this.random = new SplitMix64(streamSeed);
        this.biasTokens = new int[params.logitBias().size()];
        this.biasValues = new float[biasTokens.length];
        int i = 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            if (e.getKey() >= vocabSize) {
                throw new IllegalArgumentException("logit_bias names token " + e.getKey()
                        + " but the vocabulary has ids 0 to " + (vocabSize - 1));
            }
            biasTokens[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        this.topLogprobKeys = new long[params.logprobs() ? params.topLogprobs() : 0];
    }

    /**
     * A sampler for choice {@code choiceIndex} of a request. With a seed, the stream starts at
     * SplitMix64's {@code (choiceIndex+1)}-th output for that seed, so every choice has its own
     * reproducible stream; without one, the seed is random.
     *
     * @param params the request's sampling settings
     * @param vocabSize the length of a logits row (V)
     * @param choiceIndex 0 to n-1
     * @throws IllegalArgumentException if a logit bias names a token id >= vocabSize
     */
    public static Sampler create(SamplingParams params, int vocabSize, int choiceIndex) {
        Objects.requireNonNull(params, "params");
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        }
        if (choiceIndex < 0 || choiceIndex >= params.n()) {
            throw new IllegalArgumentException("choiceIndex must be between 0 and n-1 = " + (params.n() - 1)
                    + ", got " + choiceIndex);
        }
        long seed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong();
        return new Sampler(params, vocabSize, SplitMix64.streamSeed(seed, choiceIndex));
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
        if (offset < 0 || logits.length - offset < vocabSize) {
            throw new IllegalArgumentException("the logits row needs " + vocabSize + " values from offset "
                    + offset + ", the array has " + logits.length);
        }
        float[] row = adjustedRow(logits, offset);
        float max = max(row);
        double logNormalizer = 0;
        List<TokenLogprob> top = List.of();
        if (params.logprobs()) {
            // before the draw, which overwrites the scratch row with weights
            logNormalizer = logNormalizer(row, max);
            top = topLogprobs(row, logNormalizer);
        }
        int token = params.greedy() ? argmax(row, 0, vocabSize) : draw(row, max);
        float logprob = params.logprobs() ? (float) (adjustedLogit(logits, offset, token) - logNormalizer) : Float.NaN;
        if (params.penalized()) {
            generatedCounts.merge(token, 1, Integer::sum);
        }
        return new SampledToken(token, logprob, top);
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

    /** Steps 1-2: a copy of the row with bias and penalties applied. */
    private float[] adjustedRow(float[] logits, int offset) {
        if (scratch == null) {
            scratch = new float[vocabSize];
        }
        float[] row = scratch;
        System.arraycopy(logits, offset, row, 0, vocabSize);
        for (int i = 0; i < biasTokens.length; i++) {
            row[biasTokens[i]] += biasValues[i];
        }
        if (params.penalized()) {
            float frequency = (float) params.frequencyPenalty();
            float presence = (float) params.presencePenalty();
            generatedCounts.forEach((token, count) -> row[token] -= frequency * count + presence);
        }
        return row;
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
        Integer count = generatedCounts.get(token);
        if (count != null) {
            value -= (float) params.frequencyPenalty() * count + (float) params.presencePenalty();
        }
        return value;
    }

    /**
     * Steps 4-8. Each token's weight {@code exp((logit - max) / temperature)} (1 for the most likely)
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
        double target = random.nextDouble() * keptWeight;
        double cumulative = 0;
        for (int i = 0; i < kept - 1; i++) {
            cumulative += weights[i];
            if (target < cumulative) {
                return RankKeys.id(candidates[i]);
            }
        }
        // rounding can leave target just above the last partial sum: the last kept token takes it
        return RankKeys.id(candidates[kept - 1]);
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
        double target = random.nextDouble() * totalWeight;
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

    /** Steps 6-7 on sorted candidates: how many of the first ones survive top-p and min-p (at least 1). */
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

    private List<TokenLogprob> topLogprobs(float[] row, double logNormalizer) {
        int count = RankKeys.selectBest(row, vocabSize, topLogprobKeys.length, topLogprobKeys);
        List<TokenLogprob> top = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int id = RankKeys.id(topLogprobKeys[i]);
            top.add(new TokenLogprob(id, (float) (row[id] - logNormalizer)));
        }
        return top;
    }
}
