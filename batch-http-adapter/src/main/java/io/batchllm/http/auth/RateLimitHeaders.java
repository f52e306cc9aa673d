package io.batchllm.http.auth;

import io.batchllm.http.RequestLimiter.Decision;
import io.batchllm.ratelimit.RateLimitDecision;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * OpenAI's rate-limit response headers for a {@link Decision}: {@code x-ratelimit-limit-requests},
 * {@code x-ratelimit-remaining-requests}, {@code x-ratelimit-reset-requests} and the same three for
 * tokens, with resets written as durations like {@code 1s}, {@code 6m0s} or {@code 250ms} (the format
 * OpenAI sends, which is Go's). On a refusal, also {@code retry-after} (whole seconds, rounded up),
 * {@code retry-after-ms}, and {@code x-should-retry: false} when waiting cannot help, plus the
 * {@link #message(Decision) message} for the {@code 429 rate_limit_exceeded} body. Stateless.
 */
public final class RateLimitHeaders {
    private RateLimitHeaders() {
    }

    /** The headers to send, in a stable order; empty for a decision that reports no limits. */
    public static Map<String, String> of(Decision d) {
        Map<String, String> h = new LinkedHashMap<>();
        put(h, "requests", d.requests());
        put(h, "tokens", d.tokens());
        if (!d.allowed()) {
            Duration wait = retryAfter(d);
            h.put("retry-after", Long.toString(retryAfterSeconds(d)));
            h.put("retry-after-ms", Long.toString(ceilMillis(wait)));
            if (!d.retryable()) {
                h.put("x-should-retry", "false");
            }
        }
        return h;
    }

    /** How long to wait before the refused request can succeed: the longest wait of the limits that refused it. */
    public static Duration retryAfter(Decision d) {
        Duration wait = Duration.ZERO;
        for (RateLimitDecision part : new RateLimitDecision[] {d.requests(), d.tokens()}) {
            if (part != null && !part.allowed() && part.resetAfter().compareTo(wait) > 0) {
                wait = part.resetAfter();
            }
        }
        return wait;
    }

    /** {@link #retryAfter} in whole seconds, rounded up and at least 1, for the {@code retry-after} header. */
    public static long retryAfterSeconds(Decision d) {
        long ms = ceilMillis(retryAfter(d));
        return Math.max(1, (ms + 999) / 1000);
    }

    /** The 429 error message: which limit, its numbers, and when to try again (or that retrying cannot help). */
    public static String message(Decision d) {
        if (d.allowed()) {
            return "";
        }
        RateLimitDecision r = d.requests();
        if (r != null && !r.allowed()) {
            return "Rate limit reached for requests: limit " + r.limit() + ", remaining " + r.remaining()
                    + ". Please try again in " + duration(r.resetAfter()) + ".";
        }
        RateLimitDecision t = d.tokens();
        if (!d.retryable()) {
            return "This request enqueues " + d.requestedTokens() + " tokens, more than the token limit of "
                    + t.limit() + " allows at once: split it into smaller batches.";
        }
        return "Rate limit reached for tokens: limit " + t.limit() + ", remaining " + t.remaining() + ", requested "
                + d.requestedTokens() + ". Please try again in " + duration(t.resetAfter()) + ".";
    }

    /**
     * A duration as OpenAI writes resets (Go's format), rounded up to the millisecond so that it never
     * promises too early: {@code 0s}, {@code 250ms}, {@code 1s}, {@code 1.5s}, {@code 6m0s},
     * {@code 1h2m3s}.
     */
    public static String duration(Duration d) {
        long ms = ceilMillis(d);
        if (ms <= 0) {
            return "0s";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        long hours = ms / 3_600_000;
        long minutes = ms / 60_000 % 60;
        long seconds = ms / 1000 % 60;
        long millis = ms % 1000;
        StringBuilder sb = new StringBuilder();
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            sb.append(minutes).append('m');
        }
        sb.append(seconds);
        if (millis > 0) {
            String frac = String.format("%03d", millis);
            sb.append('.').append(frac.replaceAll("0+$", ""));
        }
        return sb.append('s').toString();
    }

    private static void put(Map<String, String> h, String what, RateLimitDecision part) {
        if (part == null) {
            return;
        }
        h.put("x-ratelimit-limit-" + what, Long.toString(part.limit()));
        h.put("x-ratelimit-remaining-" + what, Long.toString(Math.max(0, part.remaining())));
        h.put("x-ratelimit-reset-" + what, duration(part.resetAfter()));
    }

    private static long ceilMillis(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return 0;
        }
        long ms = d.toMillis();
        return d.minusMillis(ms).isZero() ? ms : ms + 1;
    }
}
