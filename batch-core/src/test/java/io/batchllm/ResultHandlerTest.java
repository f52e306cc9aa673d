package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.spi.BatchOutcome;
import io.batchllm.spi.RequestOutcome;
import io.batchllm.spi.ResultHandler;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultHandlerTest {
    @TempDir
    Path dir;

    /** Records what it is told. */
    static class Recording implements ResultHandler {
        final String name;
        final int order;
        final List<String> calls;
        final Set<String> customIds = ConcurrentHashMap.newKeySet();
        final List<BatchOutcome> batches = new CopyOnWriteArrayList<>();

        Recording(String name, int order, List<String> calls) {
            this.name = name;
            this.order = order;
            this.calls = calls;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int order() {
            return order;
        }

        @Override
        public void onRequestFinished(RequestOutcome o) {
            calls.add(name + ":" + o.customId());
            customIds.add(o.customId());
        }

        @Override
        public void onBatchFinished(BatchOutcome o) {
            batches.add(o);
        }
    }

    static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void handlersHearEveryRequestAndTheBatchInTheirOrder() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        Recording second = new Recording("second", 2, calls);
        Recording first = new Recording("first", 1, calls);
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(second).resultHandler(first))) {
            Batch done = h.run(Jsonl.chatLines(20) + Jsonl.chatLine("bad", "x", "\"test_status\":400") + "\n");
            assertEquals(BatchStatus.COMPLETED, done.status());
            eventually(() -> second.batches.size() == 1, "the batch event");
            assertEquals(21, first.customIds.size());
            assertEquals(21, second.customIds.size());
            for (String id : first.customIds) {
                assertTrue(calls.indexOf("first:" + id) < calls.indexOf("second:" + id), "order for " + id);
            }
            BatchOutcome outcome = second.batches.getFirst();
            assertEquals("completed", outcome.status());
            assertEquals(21, outcome.total());
            assertEquals(1, outcome.failed());
            assertEquals(done.outputFileId(), outcome.outputFileId());
        }
    }

    @Test
    void aFailingHandlerIsRetriedRecordedAndNeverFailsTheBatch() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        Recording healthy = new Recording("healthy", 0, calls);
        ResultHandler broken = new ResultHandler() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public void onRequestFinished(RequestOutcome outcome) {
                calls.add("broken");
                throw new IllegalStateException("downstream is down");
            }
        };
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(broken).resultHandler(healthy)
                .handlerRetries(2, Duration.ofMillis(1)))) {
            Batch done = h.run(Jsonl.chatLines(5));
            assertEquals(BatchStatus.COMPLETED, done.status());
            eventually(() -> h.service.jobStore().countHandlerFailures(done.id()) == 5, "5 recorded failures");
            eventually(() -> healthy.batches.size() == 1, "the healthy handler's batch event");
            assertEquals(5, healthy.customIds.size());
            assertEquals(15, calls.stream().filter("broken"::equals).count(), "1 try + 2 retries per event");
            Counter failures = h.service.meterRegistry().find("batchllm.handler.failures").tag("handler", "broken").counter();
            assertEquals(5.0, failures.count());
        }
    }

    @Test
    void aStuckHandlerDoesNotHoldUpInference() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        ResultHandler stuck = new ResultHandler() {
            @Override
            public String name() {
                return "stuck";
            }

            @Override
            public void onRequestFinished(RequestOutcome outcome) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen.add(outcome.customId());
            }
        };
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(stuck))) {
            Batch done = h.run(Jsonl.chatLines(30));
            assertEquals(BatchStatus.COMPLETED, done.status(), "the batch completes while the handler is stuck");
            assertTrue(seen.isEmpty());
            release.countDown();
            eventually(() -> seen.size() == 30, "delivery after the handler recovers");
        }
    }

    @Test
    void closeDeliversThePendingEventsBeforeItReturns() throws Exception {
        // Regression: close() stopped delivery after the event in hand, so a service closed right after
        // its batch completed told its handler of 1 of 4 requests and not of the batch.
        List<String> calls = new CopyOnWriteArrayList<>();
        CountDownLatch never = new CountDownLatch(1);
        Recording slow = new Recording("slow", 0, calls) {
            @Override
            public void onRequestFinished(RequestOutcome o) {
                try {
                    never.await(50, TimeUnit.MILLISECONDS); // a handler that takes its time
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.onRequestFinished(o);
            }
        };
        Batch done;
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(slow))) {
            done = h.run(Jsonl.chatLines(4));
            assertEquals(BatchStatus.COMPLETED, done.status());
        }
        assertEquals(Set.of("req-0", "req-1", "req-2", "req-3"), slow.customIds);
        assertEquals(1, slow.batches.size(), "the batch event too");
        assertEquals(done.id(), slow.batches.getFirst().batchId());
    }

    @Test
    void undeliveredEventsAreDeliveredAfterARestart() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Set<String> firstRun = ConcurrentHashMap.newKeySet();
        ResultHandler blocked = new ResultHandler() {
            @Override
            public String name() {
                return "blocked";
            }

            @Override
            public void onRequestFinished(RequestOutcome outcome) {
                try {
                    never.await(50, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                firstRun.add(outcome.customId());
            }
        };
        String batchId;
        // close() delivers pending events for up to the shutdown timeout: far less than 40 slow events take
        try (Harness h = new Harness(dir, TestBackend.standard(),
                b -> b.resultHandler(blocked).shutdownTimeout(Duration.ofMillis(200)))) {
            batchId = h.run(Jsonl.chatLines(40)).id();
        } // closed with most events still in the outbox
        Recording later = new Recording("later", 0, new CopyOnWriteArrayList<>());
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(later))) {
            eventually(() -> later.batches.size() == 1, "the batch event after the restart");
            assertEquals(batchId, later.batches.getFirst().batchId());
            assertTrue(firstRun.size() < 40, "the first run was closed before delivering everything");
            Set<String> all = ConcurrentHashMap.newKeySet();
            all.addAll(firstRun);
            all.addAll(later.customIds);
            assertEquals(40, all.size(), "every request was delivered at least once across the two runs");
        }
    }

    @Test
    void aBatchThatFailsValidationIsReportedToHandlers() throws Exception {
        Recording r = new Recording("r", 0, new CopyOnWriteArrayList<>());
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.resultHandler(r))) {
            Batch b = h.run("not json\n");
            assertEquals(BatchStatus.FAILED, b.status());
            eventually(() -> r.batches.size() == 1, "the failed batch event");
            assertEquals("failed", r.batches.getFirst().status());
        }
    }
}
