package io.batchllm.ratelimit;

import java.time.Duration;

/**
 * A rate limiter's answer.
 *
 * @param allowed whether the cost was taken
 * @param limit the bucket's capacity
 * @param remaining what is left after this call
 * @param resetAfter how long until the bucket is full again (when not allowed: until enough has
 *     refilled for this cost, which is what {@code retry-after} should say)
 */
public record RateLimitDecision(boolean allowed, long limit, long remaining, Duration resetAfter) {
}
