package io.batchllm;

import io.batchllm.ratelimit.RateLimitDecision;

/** The caller exceeded a rate limit; 429 with {@code code: rate_limit_exceeded}. */
public class RateLimitExceededException extends BatchException {
    private final transient RateLimitDecision decision;

    public RateLimitExceededException(String message, RateLimitDecision decision) {
        super(429, "requests", "rate_limit_exceeded", null, message);
        this.decision = decision;
    }

    /** The limiter's answer: limit, remaining and when it resets (for {@code retry-after}). */
    public RateLimitDecision decision() {
        return decision;
    }
}
