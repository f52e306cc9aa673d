package io.batchllm.engine.sampling;

import java.util.List;

/**
 * The token a {@link Sampler} picked, with its log-probabilities when the request asked for them.
 *
 * @param token the chosen token id
 * @param logprob the chosen token's log-probability, or {@link Float#NaN} when the request did not ask
 *     for logprobs (computing it costs an extra pass over the vocabulary)
 * @param topLogprobs the most likely tokens, most likely first (ties: lower id first), as many as
 *     {@link SamplingParams#topLogprobs()}; empty without logprobs
 */
public record SampledToken(int token, float logprob, List<TokenLogprob> topLogprobs) {

    public SampledToken {
        topLogprobs = List.copyOf(topLogprobs);
    }

    /** True when {@link #logprob()} and {@link #topLogprobs()} were computed. */
    public boolean hasLogprobs() {
        return !Float.isNaN(logprob);
    }
}
