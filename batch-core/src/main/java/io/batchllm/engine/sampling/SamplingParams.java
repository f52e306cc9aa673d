package io.batchllm.engine.sampling;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How one request wants its tokens chosen and its generation bounded. Immutable and thread-safe.
 *
 * <p>The OpenAI request parser fills this from a request body and reports out-of-range values as
 * 400 errors naming the field; this constructor repeats the range checks (as
 * {@link IllegalArgumentException}) so that code building params directly cannot create impossible
 * ones. Use {@link #builder()} to start from the defaults.
 *
 * @param maxTokens most tokens to generate per choice, or null for "until the context is full"
 *     (the chat default; completions default to {@link #DEFAULT_COMPLETIONS_MAX_TOKENS})
 * @param temperature 0 to 2 (default 1); 0 means greedy
 * @param topP nucleus mass, 0 to 1 (default 1 = off)
 * @param topK keep only the k most likely tokens, 0 = off (an extension, not in OpenAI's API)
 * @param minP drop tokens less likely than minP times the most likely one, 0 to 1, 0 = off
 *     (an extension)
 * @param seed seeds the per-choice random stream; null means a fresh random seed per request
 * @param stop up to {@link #MAX_STOP_STRINGS} non-empty stop strings
 * @param n choices to generate, 1 to {@link #MAX_N}
 * @param presencePenalty -2 to 2, subtracted once from every token already generated
 * @param frequencyPenalty -2 to 2, subtracted once per earlier occurrence of a generated token
 * @param logitBias token id to a bias of -100 to 100 added to its logit
 * @param logprobs whether to report the chosen token's log-probability
 * @param topLogprobs how many alternatives to report per position (0 to {@link #MAX_TOP_LOGPROBS};
 *     only meaningful with logprobs)
 * @param repetitionPenalty vLLM's and Hugging Face's multiplicative penalty on every token of the
 *     prompt or the generated text: a positive logit is divided by it, a negative one multiplied;
 *     greater than 0, 1 = off (an extension)
 * @param minTokens tokens to generate before an end-of-generation token or a stop token id may be
 *     sampled (they are masked until then) and before stop strings are looked for; 0 = off, at most
 *     {@code maxTokens} (an extension)
 * @param ignoreEos whether end-of-generation tokens are generated like any other token instead of
 *     ending the choice (an extension)
 * @param stopTokenIds token ids that end the choice when sampled, like an end-of-generation token
 *     (an extension)
 */
public record SamplingParams(
        Integer maxTokens,
        double temperature,
        double topP,
        int topK,
        double minP,
        Long seed,
        List<String> stop,
        int n,
        double presencePenalty,
        double frequencyPenalty,
        Map<Integer, Float> logitBias,
        boolean logprobs,
        int topLogprobs,
        double repetitionPenalty,
        int minTokens,
        boolean ignoreEos,
        List<Integer> stopTokenIds) {

    /** OpenAI's default {@code max_tokens} for {@code /v1/completions}. */
    public static final int DEFAULT_COMPLETIONS_MAX_TOKENS = 16;
    /** Default temperature. */
    public static final double DEFAULT_TEMPERATURE = 1.0;
    /** Highest temperature OpenAI accepts. */
    public static final double MAX_TEMPERATURE = 2.0;
    /** Largest {@code n}. */
    public static final int MAX_N = 128;
    /** Most stop strings per request. */
    public static final int MAX_STOP_STRINGS = 4;
    /** Penalties lie in [-MAX_PENALTY, MAX_PENALTY]. */
    public static final double MAX_PENALTY = 2.0;
    /** Logit biases lie in [-MAX_LOGIT_BIAS, MAX_LOGIT_BIAS]. */
    public static final float MAX_LOGIT_BIAS = 100f;
    /** Largest chat {@code top_logprobs}. */
    public static final int MAX_TOP_LOGPROBS = 20;

    public SamplingParams {
        if (maxTokens != null && maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be >= 1 or null, got " + maxTokens);
        }
        checkRange("temperature", temperature, 0, MAX_TEMPERATURE);
        checkRange("topP", topP, 0, 1);
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
        }
        checkRange("minP", minP, 0, 1);
        stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
        if (stop.size() > MAX_STOP_STRINGS || stop.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException(
                    "stop must hold at most " + MAX_STOP_STRINGS + " non-empty strings, got " + stop);
        }
        if (n < 1 || n > MAX_N) {
            throw new IllegalArgumentException("n must be between 1 and " + MAX_N + ", got " + n);
        }
        checkRange("presencePenalty", presencePenalty, -MAX_PENALTY, MAX_PENALTY);
        checkRange("frequencyPenalty", frequencyPenalty, -MAX_PENALTY, MAX_PENALTY);
        logitBias = Map.copyOf(Objects.requireNonNull(logitBias, "logitBias"));
        logitBias.forEach((token, bias) -> {
            if (token < 0 || !(Math.abs(bias) <= MAX_LOGIT_BIAS)) {
                throw new IllegalArgumentException("logitBias needs token ids >= 0 and biases between -100 and 100, got "
                        + token + " -> " + bias);
            }
        });
        if (topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException(
                    "topLogprobs must be between 0 and " + MAX_TOP_LOGPROBS + ", got " + topLogprobs);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a number greater than 0, got "
                    + repetitionPenalty);
        }
        if (minTokens < 0 || maxTokens != null && minTokens > maxTokens) {
            throw new IllegalArgumentException("minTokens must be between 0 and maxTokens (" + maxTokens + "), got "
                    + minTokens);
        }
        stopTokenIds = List.copyOf(Objects.requireNonNull(stopTokenIds, "stopTokenIds"));
        if (stopTokenIds.stream().anyMatch(id -> id < 0)) {
            throw new IllegalArgumentException("stopTokenIds must be token ids >= 0, got " + stopTokenIds);
        }
    }

    private static void checkRange(String name, double value, double min, double max) {
        // written so that NaN fails too
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + value);
        }
    }

    /** True when the choice is the argmax: temperature 0 or top-k 1. */
    public boolean greedy() {
        return temperature == 0 || topK == 1;
    }

    /** True when a presence, frequency or repetition penalty is set, so generated tokens must be counted. */
    public boolean penalized() {
        return presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1;
    }

    /** A builder holding the defaults: chat-style unbounded maxTokens, temperature 1, everything else off. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this instance's values. */
    public Builder toBuilder() {
        return new Builder()
                .maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK).minP(minP).seed(seed)
                .stop(stop).n(n).presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                .logitBias(logitBias).logprobs(logprobs).topLogprobs(topLogprobs)
                .repetitionPenalty(repetitionPenalty).minTokens(minTokens).ignoreEos(ignoreEos)
                .stopTokenIds(stopTokenIds);
    }

    /** Mutable builder for {@link SamplingParams}; not thread-safe. {@link #build()} validates. */
    public static final class Builder {
        private Integer maxTokens;
        private double temperature = DEFAULT_TEMPERATURE;
        private double topP = 1.0;
        private int topK;
        private double minP;
        private Long seed;
        private List<String> stop = List.of();
        private int n = 1;
        private double presencePenalty;
        private double frequencyPenalty;
        private Map<Integer, Float> logitBias = Map.of();
        private boolean logprobs;
        private int topLogprobs;
        private double repetitionPenalty = 1.0;
        private int minTokens;
        private boolean ignoreEos;
        private List<Integer> stopTokenIds = List.of();

        private Builder() {
        }

        public Builder maxTokens(Integer value) { maxTokens = value; return this; }

        public Builder temperature(double value) { temperature = value; return this; }

        public Builder topP(double value) { topP = value; return this; }

        public Builder topK(int value) { topK = value; return this; }

        public Builder minP(double value) { minP = value; return this; }

        public Builder seed(Long value) { seed = value; return this; }

        public Builder stop(List<String> value) { stop = value; return this; }

        public Builder n(int value) { n = value; return this; }

        public Builder presencePenalty(double value) { presencePenalty = value; return this; }

        public Builder frequencyPenalty(double value) { frequencyPenalty = value; return this; }

        public Builder logitBias(Map<Integer, Float> value) { logitBias = value; return this; }

        public Builder logprobs(boolean value) { logprobs = value; return this; }

        public Builder topLogprobs(int value) { topLogprobs = value; return this; }

        public Builder repetitionPenalty(double value) { repetitionPenalty = value; return this; }

        public Builder minTokens(int value) { minTokens = value; return this; }

        public Builder ignoreEos(boolean value) { ignoreEos = value; return this; }

        public Builder stopTokenIds(List<Integer> value) { stopTokenIds = value; return this; }

        /** The validated, immutable params. */
        public SamplingParams build() {
            return new SamplingParams(maxTokens, temperature, topP, topK, minP, seed, stop, n,
                    presencePenalty, frequencyPenalty, logitBias, logprobs, topLogprobs, repetitionPenalty, minTokens,
                    ignoreEos, stopTokenIds);
        }
    }
}
