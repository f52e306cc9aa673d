package io.batchllm.http.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.http.RequestLimiter;
import io.batchllm.http.RequestLimiter.Decision;
import io.batchllm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyedRequestLimiterTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final Principal alice = new Principal("key-a", "acme", Role.MEMBER);
    private final Principal bob = new Principal("key-b", "acme", Role.MEMBER);

    @Test
    void aRequestWithinTheLimitsIsAllowedAndReportsBothLimits() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(60, 1000, clock);

        Decision d = limiter.check(alice, "10.0.0.1", 200);

        assertTrue(d.allowed());
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("x-ratelimit-limit-requests", "60");
        expected.put("x-ratelimit-remaining-requests", "59");
        expected.put("x-ratelimit-reset-requests", "1s");
        expected.put("x-ratelimit-limit-tokens", "1000");
        expected.put("x-ratelimit-remaining-tokens", "800");
        // 200 of 1000 tokens per minute refill in 12 seconds.
        expected.put("x-ratelimit-reset-tokens", "12s");
        assertEquals(expected, RateLimitHeaders.of(d));
    }

    @Test
    void aRequestWithoutTokensReportsOnlyTheRequestLimit() {
        Decision d = KeyedRequestLimiter.perMinute(60, 1000, clock).check(alice, null, 0);

        assertTrue(d.allowed());
        assertNull(d.tokens());
        assertEquals(Map.of("x-ratelimit-limit-requests", "60", "x-ratelimit-remaining-requests", "59",
                "x-ratelimit-reset-requests", "1s"), RateLimitHeaders.of(d));
    }

    @Test
    void theRequestOverTheLimitIsRefusedWithRetryAfter() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(2, 1000, clock);
        limiter.check(alice, null, 0);
        limiter.check(alice, null, 0);

        Decision d = limiter.check(alice, null, 0);

        assertFalse(d.allowed());
        assertTrue(d.retryable());
        Map<String, String> h = RateLimitHeaders.of(d);
        assertEquals("0", h.get("x-ratelimit-remaining-requests"));
        // One request of 2 per minute refills in 30 seconds.
        assertEquals("30s", h.get("x-ratelimit-reset-requests"));
        assertEquals("30", h.get("retry-after"));
        assertEquals("30000", h.get("retry-after-ms"));
        assertFalse(h.containsKey("x-should-retry"));
        assertEquals("Rate limit reached for requests: limit 2, remaining 0. Please try again in 30s.",
                RateLimitHeaders.message(d));
    }

    @Test
    void aRefusedRequestIsAllowedAgainOnceItsAllowanceRefills() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(1, 1000, clock);
        limiter.check(alice, null, 0);
        assertFalse(limiter.check(alice, null, 0).allowed());

        clock.advance(Duration.ofMinutes(1));

        assertTrue(limiter.check(alice, null, 0).allowed());
    }

    @Test
    void tokensOverTheLimitAreRefusedButStillCountTheRequest() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(10, 1000, clock);
        limiter.check(alice, null, 900);

        Decision d = limiter.check(alice, null, 400);

        assertFalse(d.allowed());
        assertTrue(d.requests().allowed());
        assertEquals(8, d.requests().remaining());
        Map<String, String> h = RateLimitHeaders.of(d);
        assertEquals("100", h.get("x-ratelimit-remaining-tokens"));
        // 300 missing tokens at 1000 a minute: 18 seconds.
        assertEquals("18s", h.get("x-ratelimit-reset-tokens"));
        assertEquals("18", h.get("retry-after"));
        assertEquals("Rate limit reached for tokens: limit 1000, remaining 100, requested 400. Please try again in 18s.",
                RateLimitHeaders.message(d));
    }

    @Test
    void moreTokensThanTheLimitEverHoldsIsNotRetryable() {
        Decision d = KeyedRequestLimiter.perMinute(10, 1000, clock).check(alice, null, 5000);

        assertFalse(d.allowed());
        assertFalse(d.retryable());
        assertEquals("false", RateLimitHeaders.of(d).get("x-should-retry"));
        assertTrue(RateLimitHeaders.message(d).contains("split it into smaller batches"), RateLimitHeaders.message(d));
    }

    @Test
    void eachPrincipalHasItsOwnAllowance() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(1, 1000, clock);
        assertTrue(limiter.check(alice, "10.0.0.1", 0).allowed());
        assertFalse(limiter.check(alice, "10.0.0.1", 0).allowed());

        assertTrue(limiter.check(bob, "10.0.0.1", 0).allowed());
        assertTrue(limiter.check(new Principal("key-a", "globex", Role.MEMBER), "10.0.0.1", 0).allowed());
    }

    @Test
    void unauthenticatedCallersAreLimitedByAddressApartFromPrincipals() {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(1, 1000, clock);
        assertTrue(limiter.check(null, "10.0.0.1", 0).allowed());
        assertFalse(limiter.check(null, "10.0.0.1", 0).allowed());

        assertTrue(limiter.check(null, "10.0.0.2", 0).allowed());
        assertTrue(limiter.check(alice, "10.0.0.1", 0).allowed());
    }

    @Test
    void callerKeysCannotCollideAcrossTenantsAndIds() {
        assertFalse(KeyedRequestLimiter.callerKey(new Principal("c", "a:b", Role.ADMIN), null)
                .equals(KeyedRequestLimiter.callerKey(new Principal("b:c", "a", Role.ADMIN), null)));
    }

    @Test
    void impossibleLimitsAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyedRequestLimiter.perMinute(0, 10, clock))
                .getMessage().contains("request limit"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyedRequestLimiter.perMinute(10, 0, clock))
                .getMessage().contains("token limit"));
        assertThrows(IllegalArgumentException.class, () -> KeyedRequestLimiter.perMinute(1, 1, clock).check(alice, null, -1));
    }

    @Test
    void theUnlimitedLimiterSendsNoHeaders() {
        Decision d = RequestLimiter.unlimited().check(null, "10.0.0.1", 100);

        assertTrue(d.allowed());
        assertEquals(Map.of(), RateLimitHeaders.of(d));
    }
}
