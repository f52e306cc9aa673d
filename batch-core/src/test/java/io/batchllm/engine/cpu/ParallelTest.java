package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossManyRegions() {
        for (int threads = 1; threads <= 4; threads++) {
            try (Parallel parallel = new Parallel(threads)) {
                // Sizes around the splitting threshold, so regions alternate between split and unsplit
                // and between using all workers and only some of them.
                for (int round = 0; round < 2_000; round++) {
                    int n = 1 + round % 7;
                    long work = (round % 3 == 0) ? 1 : Parallel.MIN_WORK_PER_CHUNK;
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    int threadCount = threads;
                    parallel.forRange(n, work, (chunk, start, end) -> {
                        if (chunk < 0 || chunk >= threadCount) {
                            throw new AssertionError("chunk " + chunk + " outside [0, " + threadCount + ")");
                        }
                        for (int i = start; i < end; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "index " + i + " of " + n + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void aWorkersFailureReachesTheCallerAndThePoolStaysUsable() {
        try (Parallel parallel = new Parallel(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                    parallel.forRange(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, start, end) -> {
                        if (chunk == 1) {
                            throw boom;
                        }
                    }));
            assertSame(boom, thrown);
            AtomicIntegerArray hits = new AtomicIntegerArray(2);
            parallel.forRange(2, Parallel.MIN_WORK_PER_CHUNK, (chunk, start, end) -> hits.incrementAndGet(chunk));
            assertEquals(1, hits.get(0));
            assertEquals(1, hits.get(1));
        }
    }
}
