package io.batchllm.http;

import io.batchllm.http.auth.Principal;
import io.batchllm.ratelimit.RateLimitDecision;

/**
 * Decides, before a request is served, whether its caller is within its rate limits: requests per
 * period and tokens enqueued per period, per principal (or per client address where no one is
 * authenticated). The server turns the decision into OpenAI's {@code x-ratelimit-*} headers, and a
 * refusal into {@code 429 rate_limit_exceeded} with {@code retry-after}
 * ({@link io.batchllm.http.auth.RateLimitHeaders}). Implementations must be thread safe.
 */
@FunctionalInterface
public interface RequestLimiter {

    /**
     * Counts one request, and {@code tokens} enqueued tokens, against the caller's limits.
     *
     * @param principal the authenticated caller, or null on a route without authentication
     * @param clientAddress the client's address, used when {@code principal} is null
     * @param tokens tokens this request enqueues (a batch's estimated input and output tokens), 0 for none
     */
    Decision check(Principal principal, String clientAddress, long tokens);

    /** A limiter that allows everything and reports no limits (so no rate-limit headers are sent). */
    static RequestLimiter unlimited() {
        return (principal, clientAddress, tokens) -> Decision.UNLIMITED;
    }

    /**
     * One request's verdict.
     *
     * @param allowed whether the request may go ahead
     * @param requests the request-count limit's state, or null when requests are not limited
     * @param tokens the token limit's state, or null when the request enqueues no tokens, tokens are not
     *     limited, or the request was already refused for its count
     * @param requestedTokens the tokens the request asked for
     */
    record Decision(boolean allowed, RateLimitDecision requests, RateLimitDecision tokens, long requestedTokens) {
        /** Allowed, with no limits to report. */
        public static final Decision UNLIMITED = new Decision(true, null, null, 0);

        public Decision {
            if (!allowed && (requests == null || requests.allowed()) && (tokens == null || tokens.allowed())) {
                throw new IllegalArgumentException("a refused decision needs the limit that refused it");
            }
        }

        /**
         * Whether waiting can help: false when the request enqueues more tokens than the token limit
         * holds at all, so no retry will ever succeed.
         */
        public boolean retryable() {
            return allowed || tokens == null || tokens.allowed() || requestedTokens <= tokens.limit();
        }
    }
}
