package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void etaAssumesTheRemainingRequestsGoAsFastAsTheFinishedOnes() {
        assertEquals("0:30", Progress.eta(10, 40, 10.0)); // 1 s per request, 30 left
        assertEquals("--:--", Progress.eta(0, 40, 10.0));
        assertEquals("0:00", Progress.eta(40, 40, 10.0));
    }

    @Test
    void clockShowsHoursOnlyFromOneHour() {
        assertEquals("0:59", Progress.clock(59.4));
        assertEquals("1:01:05", Progress.clock(3665));
    }

    @Test
    void tokensPerSecondHasOneDecimalAndIsZeroBeforeTimePasses() {
        assertEquals("12.5", Progress.tokensPerSecond(25, 2.0));
        assertEquals("0.0", Progress.tokensPerSecond(25, 0.0));
    }
}
