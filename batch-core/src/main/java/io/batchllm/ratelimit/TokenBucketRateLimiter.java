package io.batchllm.ratelimit;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory token bucket per key: up to {@code capacity} units, refilled continuously at
 * {@code capacity / period}. Thread safe. Buckets live as long as the limiter (one small object per
 * key); use a distributed limiter when keys are unbounded.
 */
public final class TokenBucketRateLimiter implements RateLimiter {

    private final long capacity;
    private final double refillPerNano;
    private final Clock clock;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /**
     * @param capacity units a key may spend in a burst, at least 1
     * @param period time to refill an empty bucket, positive
     * @param clock time source (inject a fixed clock in tests)
     */
    public TokenBucketRateLimiter(long capacity, Duration period, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        if (period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException("period must be positive, was " + period);
        }
        this.capacity = capacity;
        this.refillPerNano = (double) capacity / period.toNanos();
        this.clock = clock;
    }

    /** {@code n} per minute on the system clock. */
    public static TokenBucketRateLimiter perMinute(long n) {
        return new TokenBucketRateLimiter(n, Duration.ofMinutes(1), Clock.systemUTC());
    }

    @Override
    public RateLimitDecision tryAcquire(String key, long cost) {
        if (cost < 1) {
            throw new IllegalArgumentException("cost must be >= 1, was " + cost);
        }
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(capacity, nanos()));
        synchronized (b) {
            long now = nanos();
            b.tokens = Math.min(capacity, b.tokens + (now - b.updatedNanos) * refillPerNano);
            b.updatedNanos = now;
            if (b.tokens >= cost) {
                b.tokens -= cost;
                return new RateLimitDecision(true, capacity, (long) b.tokens, untilFull(b.tokens));
            }
            long wait = (long) Math.ceil((cost - b.tokens) / refillPerNano);
            return new RateLimitDecision(false, capacity, (long) b.tokens, Duration.ofNanos(wait));
        }
    }

    private Duration untilFull(double tokens) {
        return Duration.ofNanos((long) Math.ceil((capacity - tokens) / refillPerNano));
    }

    private long nanos() {
        java.time.Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    private static final class Bucket {
        double tokens;
        long updatedNanos;

        Bucket(double tokens, long updatedNanos) {
            this.tokens = tokens;
            this.updatedNanos = updatedNanos;
        }
    }
}
