package io.batchllm.engine.sampling;

import java.util.List;

/**
 * Finds stop strings in a stream of decoded text pieces, even when a stop string is split across
 * several tokens. Not thread-safe: one instance per sequence.
 *
 * <p>Feed each token's decoded text to {@link #feed}. It returns the text that is safe to emit now:
 * everything except a tail that could still be the start of a stop string, which it holds back until
 * the next piece decides. When a stop string completes, {@link #feed} returns the text before it, the
 * stop string and anything after it are dropped, and {@link #stopped()} turns true. When generation
 * ends for another reason (length, end-of-sequence token), {@link #flush()} returns the held-back
 * tail. The concatenation of everything returned is the choice's text.
 *
 * <p>If several stop strings occur, the one that starts earliest wins. Matching is on Java strings
 * (UTF-16), so pieces must be whole characters: the caller decodes token bytes incrementally and
 * feeds only complete UTF-8 sequences.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    /** A matcher for the given stop strings (none is fine: then nothing is ever held back). */
    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
        if (this.stops.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop strings must not be empty, got " + stops);
        }
    }

    /**
     * Adds a decoded piece and returns the text that can be emitted now (possibly empty).
     *
     * @throws IllegalStateException if a stop string already matched
     */
    public String feed(String piece) {
        if (stopped) {
            throw new IllegalStateException("a stop string already matched; generation must end");
        }
        pending.append(piece);
        int stopAt = earliestStop();
        if (stopAt >= 0) {
            stopped = true;
            String text = pending.substring(0, stopAt);
            pending.setLength(0);
            return text;
        }
        int safe = pending.length() - longestSuffixThatStartsAStop();
        String text = pending.substring(0, safe);
        pending.delete(0, safe);
        return text;
    }

    /** True once a stop string has matched. */
    public boolean stopped() {
        return stopped;
    }

    /** Ends the stream without a stop match: returns the held-back text (empty after a stop). */
    public String flush() {
        String text = pending.toString();
        pending.setLength(0);
        return text;
    }

    private int earliestStop() {
        int earliest = -1;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        return earliest;
    }

    /**
     * The length of the longest tail of the pending text that is a proper prefix of some stop
     * string. Any stop occurrence that has begun but not ended lies inside that tail, so emitting the
     * text before it can never emit part of a stop string.
     */
    private int longestSuffixThatStartsAStop() {
        int longest = 0;
        for (String stop : stops) {
            int max = Math.min(stop.length() - 1, pending.length());
            for (int len = max; len > longest; len--) {
                if (tailEqualsPrefix(stop, len)) {
                    longest = len;
                    break;
                }
            }
        }
        return longest;
    }

    private boolean tailEqualsPrefix(String stop, int len) {
        int start = pending.length() - len;
        for (int i = 0; i < len; i++) {
            if (pending.charAt(start + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
