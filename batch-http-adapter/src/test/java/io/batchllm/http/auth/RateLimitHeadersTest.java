package io.batchllm.http.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.batchllm.http.RequestLimiter.Decision;
import io.batchllm.ratelimit.RateLimitDecision;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RateLimitHeadersTest {

    /** OpenAI writes resets as Go durations: the examples of its rate-limit guide are {@code 1s} and {@code 6m0s}. */
    @ParameterizedTest
    @CsvSource({
            "0, 0s",
            "1, 1ms",
            "250, 250ms",
            "999, 999ms",
            "1000, 1s",
            "1500, 1.5s",
            "8640, 8.64s",
            "59999, 59.999s",
            "60000, 1m0s",
            "360000, 6m0s",
            "61250, 1m1.25s",
            "3600000, 1h0m0s",
            "3723000, 1h2m3s",
            "90000000, 25h0m0s"})
    void resetDurationsAreWrittenLikeOpenAi(long millis, String expected) {
        assertEquals(expected, RateLimitHeaders.duration(Duration.ofMillis(millis)));
    }

    @Test
    void partialMillisecondsRoundUpSoTheResetIsNeverEarly() {
        assertEquals("1ms", RateLimitHeaders.duration(Duration.ofNanos(1)));
        assertEquals("1s", RateLimitHeaders.duration(Duration.ofNanos(999_000_001)));
        assertEquals("0s", RateLimitHeaders.duration(Duration.ofSeconds(-3)));
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUpAndAtLeastOne() {
        assertEquals(1, RateLimitHeaders.retryAfterSeconds(refused(Duration.ofMillis(20))));
        assertEquals(2, RateLimitHeaders.retryAfterSeconds(refused(Duration.ofMillis(1001))));
        assertEquals(360, RateLimitHeaders.retryAfterSeconds(refused(Duration.ofMinutes(6))));
    }

    @Test
    void retryAfterIsTheLongestWaitOfTheLimitsThatRefused() {
        Decision d = new Decision(false, new RateLimitDecision(true, 10, 5, Duration.ofMinutes(9)),
                new RateLimitDecision(false, 100, 3, Duration.ofSeconds(7)), 50);

        assertEquals(Duration.ofSeconds(7), RateLimitHeaders.retryAfter(d));
    }

    @Test
    void aRefusalMustNameTheLimitThatRefused() {
        RateLimitDecision ok = new RateLimitDecision(true, 10, 5, Duration.ZERO);
        assertThrows(IllegalArgumentException.class, () -> new Decision(false, ok, null, 0));
    }

    private static Decision refused(Duration wait) {
        return new Decision(false, new RateLimitDecision(false, 10, 0, wait), null, 0);
    }
}
