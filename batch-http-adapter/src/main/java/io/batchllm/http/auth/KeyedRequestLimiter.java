package io.batchllm.http.auth;

import io.batchllm.http.RequestLimiter;
import io.batchllm.ratelimit.RateLimitDecision;
import io.batchllm.ratelimit.RateLimiter;
import io.batchllm.ratelimit.TokenBucketRateLimiter;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Per-caller limits on two core {@link RateLimiter}s: one for requests (each costs 1), one for
 * enqueued tokens. A caller is its principal (tenant and id) when authenticated, otherwise its client
 * address; each caller has its own allowance, so one busy key never slows another.
 *
 * <p>The request is counted first: a request refused for its count takes no tokens, while a request
 * refused for its tokens still counts as a request (as with OpenAI, refused requests count). With
 * {@link #perMinute} the limiters are in-memory token buckets ({@link TokenBucketRateLimiter}):
 * one small object per caller for the life of the server, and each server node counts on its own;
 * pass distributed limiters to share limits between nodes. Thread safe.
 */
public final class KeyedRequestLimiter implements RequestLimiter {
    /** Requests per minute per caller by default: 600 (10 a second, refilled continuously). */
    public static final long DEFAULT_REQUESTS_PER_MINUTE = 600;
    /** Enqueued tokens per minute per caller by default: 10 million. */
    public static final long DEFAULT_TOKENS_PER_MINUTE = 10_000_000;

    private final RateLimiter requests;
    private final RateLimiter tokens;

    /**
     * @param requests limits request counts, keyed by caller
     * @param tokens limits enqueued tokens, keyed by caller
     */
    public KeyedRequestLimiter(RateLimiter requests, RateLimiter tokens) {
        this.requests = Objects.requireNonNull(requests, "requests");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
    }

    /**
     * In-memory token buckets: {@code requestsPerMinute} requests and {@code tokensPerMinute} tokens per
     * caller, each refilled evenly over a minute (so a full bucket allows a burst of that many).
     *
     * @throws IllegalArgumentException when a limit is below 1
     */
    public static KeyedRequestLimiter perMinute(long requestsPerMinute, long tokensPerMinute, Clock clock) {
        if (requestsPerMinute < 1) {
            throw new IllegalArgumentException("the request limit must be at least 1 per minute, was "
                    + requestsPerMinute);
        }
        if (tokensPerMinute < 1) {
            throw new IllegalArgumentException("the token limit must be at least 1 per minute, was " + tokensPerMinute);
        }
        return new KeyedRequestLimiter(
                new TokenBucketRateLimiter(requestsPerMinute, Duration.ofMinutes(1), clock),
                new TokenBucketRateLimiter(tokensPerMinute, Duration.ofMinutes(1), clock));
    }

    @Override
    public Decision check(Principal principal, String clientAddress, long tokenCount) {
        if (tokenCount < 0) {
            throw new IllegalArgumentException("tokens must be >= 0, was " + tokenCount);
        }
        String key = callerKey(principal, clientAddress);
        RateLimitDecision r = requests.tryAcquire(key, 1);
        if (!r.allowed() || tokenCount == 0) {
            return new Decision(r.allowed(), r, null, tokenCount);
        }
        RateLimitDecision t = tokens.tryAcquire(key, tokenCount);
        return new Decision(t.allowed(), r, t, tokenCount);
    }

    /**
     * Distinct callers get distinct keys: the tenant's length prefix keeps "a:b" + "c" apart from "a" + "b:c",
     * and principals and addresses live in separate namespaces.
     */
    static String callerKey(Principal principal, String clientAddress) {
        if (principal != null) {
            return "principal:" + principal.tenant().length() + ":" + principal.tenant() + ":" + principal.id();
        }
        return "address:" + (clientAddress != null ? clientAddress : "unknown");
    }
}
