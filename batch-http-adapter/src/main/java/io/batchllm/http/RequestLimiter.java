package io.batchllm.http;

import io.batchllm.http.auth.Principal;
import java.time.Duration;
import java.util.Objects;

/**
 * Decides whether a request may proceed: the seam for per-key (and, on unauthenticated routes,
 * per-address) rate limits. The server asks once per request, before it does any work, and turns
 * the answer into OpenAI's headers (C8): each non-null {@link Window} becomes
 * {@code x-ratelimit-limit-*}, {@code x-ratelimit-remaining-*} and {@code x-ratelimit-reset-*}
 * (a duration such as {@code 1s} or {@code 6m0s}); a refusal becomes {@code 429} with code
 * {@code rate_limit_exceeded} and {@code retry-after} (whole seconds, at least 1). Implementations
 * must be thread safe; the default {@link #allowAll()} enforces nothing and sends no headers.
 */
@FunctionalInterface
public interface RequestLimiter {

    /**
     * @param principal the authenticated caller, or null on a route that needs no authentication
     *     ({@code /health}, {@code /ready}, {@code /metrics}) or with {@code --auth none}
     * @param clientAddress the peer's IP address
     * @param tokens tokens this request enqueues: on {@code POST /v1/batches} an estimate from the
     *     input file's size (bytes / 4, rounded up), else 0
     */
    Decision check(Principal principal, String clientAddress, long tokens);

    /** Allows everything and sends no rate-limit headers. */
    static RequestLimiter allowAll() {
        return (principal, address, tokens) -> Decision.ALLOWED;
    }

    /**
     * One limit's state after this request.
     *
     * @param limit the most allowed per window
     * @param remaining what is left
     * @param reset when the allowance is full again
     */
    record Window(long limit, long remaining, Duration reset) {
        public Window {
            Objects.requireNonNull(reset, "reset");
        }
    }

    /**
     * The answer.
     *
     * @param allowed whether the request proceeds
     * @param requests the request-count limit, or null if none is enforced
     * @param tokens the token limit, or null if none is enforced
     * @param retryAfter when refused: how long until a retry can succeed (sent as {@code retry-after});
     *     ignored when allowed
     */
    record Decision(boolean allowed, Window requests, Window tokens, Duration retryAfter) {
        /** Allowed, no limits to report. */
        public static final Decision ALLOWED = new Decision(true, null, null, Duration.ZERO);

        public Decision {
            Objects.requireNonNull(retryAfter, "retryAfter");
        }

        /** Which limit refused: {@code tokens} when the token window is exhausted, else {@code requests}. */
        public String exceeded() {
            return tokens != null && tokens.remaining() <= 0 && (requests == null || requests.remaining() > 0)
                    ? "tokens" : "requests";
        }
    }
}
