package io.batchllm.engine.sampling;

/**
 * A token id with its log-probability under the model's distribution (after logit bias and
 * penalties, before temperature and truncation; see {@link Sampler}).
 *
 * @param token the token id
 * @param logprob natural-log probability, at most 0
 */
public record TokenLogprob(int token, float logprob) {
}
