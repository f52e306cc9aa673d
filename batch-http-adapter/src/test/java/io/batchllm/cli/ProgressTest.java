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

    @Test
    void aRunningBatchShowsItsRequestsInFlightAndTheTokensGeneratedSoFar() {
        java.io.StringWriter out = new java.io.StringWriter();
        long[] now = {0};
        Progress p = new Progress(new java.io.PrintWriter(out), false, java.time.Duration.ofSeconds(5), () -> now[0],
                new Progress.Live(() -> 8, () -> 1234));
        now[0] = 2_000_000_000L;
        p.update(running(0, 100));
        assertEquals("progress: 0/100 requests, 8 running, 1234 tokens, 617.0 tok/s, ETA --:--\n",
                out.toString().replace("\r\n", "\n"));
    }

    private static io.batchllm.Batch running(long done, long total) {
        return new io.batchllm.Batch("batch_1", "/v1/chat/completions", null, "file-1", "24h",
                io.batchllm.BatchStatus.IN_PROGRESS, null, null, 0, 0L, 86_400L, null, null, null, null, null, null,
                new io.batchllm.RequestCounts(total, done, 0), null, "m", new io.batchllm.BatchUsage(0, 0, 0));
    }
}
