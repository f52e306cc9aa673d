package io.batchllm.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TokenBucketRateLimiterTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final TokenBucketRateLimiter limiter = new TokenBucketRateLimiter(3, Duration.ofSeconds(30), clock);

    @Test
    void allowsABurstUpToCapacityThenRefusesWithTheWaitUntilEnoughRefills() {
        assertEquals(2, limiter.tryAcquire("k", 1).remaining());
        assertEquals(1, limiter.tryAcquire("k", 1).remaining());
        assertEquals(0, limiter.tryAcquire("k", 1).remaining());
        RateLimitDecision refused = limiter.tryAcquire("k", 1);
        assertFalse(refused.allowed());
        assertEquals(3, refused.limit());
        assertEquals(Duration.ofSeconds(10), refused.resetAfter(), "one unit refills every 10 s");
    }

    @Test
    void refillsContinuouslyWithTheClock() {
        for (int i = 0; i < 3; i++) {
            limiter.tryAcquire("k", 1);
        }
        clock.advance(Duration.ofSeconds(10));
        assertTrue(limiter.tryAcquire("k", 1).allowed());
        assertFalse(limiter.tryAcquire("k", 1).allowed());
        clock.advance(Duration.ofHours(1));
        assertEquals(2, limiter.tryAcquire("k", 1).remaining(), "a bucket never holds more than its capacity");
    }

    @Test
    void keysHaveSeparateBuckets() {
        assertTrue(limiter.tryAcquire("a", 3).allowed());
        assertFalse(limiter.tryAcquire("a", 1).allowed());
        assertTrue(limiter.tryAcquire("b", 3).allowed());
    }

    @Test
    void aCostAboveTheRemainderIsRefusedWithoutTakingAnything() {
        assertTrue(limiter.tryAcquire("k", 2).allowed());
        assertFalse(limiter.tryAcquire("k", 2).allowed());
        assertTrue(limiter.tryAcquire("k", 1).allowed());
    }

    @Test
    void impossibleSettingsAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new TokenBucketRateLimiter(0, Duration.ofSeconds(1), clock)).getMessage().contains("capacity"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new TokenBucketRateLimiter(1, Duration.ZERO, clock)).getMessage().contains("period"));
        assertThrows(IllegalArgumentException.class, () -> limiter.tryAcquire("k", 0));
        assertTrue(RateLimiter.unlimited().tryAcquire("x", 1_000_000).allowed());
    }
}
