package io.batchllm.ratelimit;

/**
 * Limits how often a caller may do something. The service asks before each upload and each batch
 * creation, keyed by the caller; the HTTP adapter uses the same interface for per-key request rates.
 * Implementations must be thread safe. A distributed implementation (several nodes) can replace the
 * in-memory {@link TokenBucketRateLimiter}.
 */
@FunctionalInterface
public interface RateLimiter {

    /**
     * Takes {@code cost} units from {@code key}'s allowance if it has them.
     *
     * @param key who is asking (a caller key, an API key id, an address)
     * @param cost units to take, at least 1
     */
    RateLimitDecision tryAcquire(String key, long cost);

    /** A limiter that allows everything. */
    static RateLimiter unlimited() {
        return (key, cost) -> new RateLimitDecision(true, Long.MAX_VALUE, Long.MAX_VALUE, java.time.Duration.ZERO);
    }
}
