package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.ratelimit.TokenBucketRateLimiter;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceLimitsAndMetricsTest {
    @TempDir
    Path dir;

    @Test
    void uploadsAreRateLimitedPerCaller() {
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.uploadRateLimiter(
                new TokenBucketRateLimiter(2, Duration.ofMinutes(1), java.time.Clock.systemUTC())))) {
            FileUpload up = FileUpload.of(new ByteArrayInputStream("x".getBytes()), "a.jsonl", FilePurpose.BATCH);
            h.service.files().upload(up.withCallerKey("alice"));
            h.service.files().upload(FileUpload.of(new ByteArrayInputStream("x".getBytes()), "a.jsonl",
                    FilePurpose.BATCH).withCallerKey("alice"));
            RateLimitExceededException e = assertThrows(RateLimitExceededException.class, () -> h.service.files()
                    .upload(FileUpload.of(new ByteArrayInputStream("x".getBytes()), "a.jsonl", FilePurpose.BATCH)
                            .withCallerKey("alice")));
            assertEquals(429, e.httpStatus());
            assertEquals("rate_limit_exceeded", e.code());
            assertFalse(e.decision().allowed());
            assertTrue(e.getMessage().contains("alice"));
            // Another caller is not affected.
            h.service.files().upload(FileUpload.of(new ByteArrayInputStream("x".getBytes()), "a.jsonl",
                    FilePurpose.BATCH).withCallerKey("bob"));
        }
    }

    @Test
    void batchCreationIsRateLimitedPerCaller() {
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.batchRateLimiter(
                new TokenBucketRateLimiter(1, Duration.ofMinutes(1), java.time.Clock.systemUTC())))) {
            FileObject f = h.upload(Jsonl.chatLines(1));
            h.service.batches().create(BatchCreateRequest.of(f.id(), Endpoint.CHAT_COMPLETIONS).withCallerKey("c"));
            assertThrows(RateLimitExceededException.class, () -> h.service.batches()
                    .create(BatchCreateRequest.of(f.id(), Endpoint.CHAT_COMPLETIONS).withCallerKey("c")));
        }
    }

    @Test
    void metricsCountBatchesRequestsTokensAndLatency() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.meterRegistry(registry))) {
            Batch done = h.run(Jsonl.chatLines(10) + Jsonl.chatLine("bad", "x", "\"test_status\":400") + "\n");
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals(1.0, registry.get("batchllm.batches").tag("status", "validating").counter().count());
            assertEquals(1.0, registry.get("batchllm.batches").tag("status", "in_progress").counter().count());
            assertEquals(1.0, registry.get("batchllm.batches").tag("status", "completed").counter().count());
            assertEquals(10.0, registry.get("batchllm.requests.finished").tag("outcome", "success").counter().count());
            assertEquals(1.0, registry.get("batchllm.requests.finished").tag("outcome", "failure").counter().count());
            assertEquals(done.usage().inputTokens(),
                    (long) registry.get("batchllm.tokens").tag("direction", "input").counter().count());
            assertEquals(done.usage().outputTokens(),
                    (long) registry.get("batchllm.tokens").tag("direction", "output").counter().count());
            assertEquals(11, registry.get("batchllm.request.latency").timer().count());
            assertNotNull(registry.get("batchllm.queue.depth").gauge());
            assertEquals(0.0, registry.get("batchllm.requests.in_flight").gauge().value());
        }
    }

    @Test
    void builderRefusesImpossibleSettingsNamingThem() {
        BatchService.Builder b = BatchService.builder();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.threads(0)).getMessage().contains("threads"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.leaseDuration(Duration.ZERO)).getMessage()
                .contains("leaseDuration"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.maxRequestsPerBatch(0)).getMessage()
                .contains("maxRequestsPerBatch"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.model(" ", Path.of("x"))).getMessage()
                .contains("model name"));
    }

    @Test
    void aServiceWithNoBackendForItsModelsSaysWhatIsMissing() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> BatchService.builder()
                .dataDirectory(dir).discoverPlugins(false).model("m", Path.of("m.gguf")).build());
        assertTrue(e.getMessage().contains("no inference backend"), e.getMessage());
    }

    @Test
    void aClosedServiceRefusesCalls() {
        Harness h = new Harness(dir);
        h.close();
        assertEquals(503, assertThrows(ServiceClosedException.class, () -> h.service.files().list()).httpStatus());
    }

    @Test
    void aServiceReopenedAfterAGracefulCloseFinishesTheBatch() throws Exception {
        TestBackend held = TestBackend.standard();
        held.holdAll(true);
        String id;
        try (Harness h = new Harness(dir, held, b -> b.shutdownTimeout(Duration.ofMillis(100)))) {
            FileObject f = h.service.files().upload(new ByteArrayInputStream(
                    Jsonl.chatLines(30).getBytes(StandardCharsets.UTF_8)), "in.jsonl", FilePurpose.BATCH);
            id = h.service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS).id();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (held.heldCount() == 0) {
                assertTrue(System.nanoTime() < deadline);
                Thread.sleep(10);
            }
        } // requests still held: their leases are given back on close
        try (Harness h = new Harness(dir)) {
            Batch done = h.service.batches().await(id, Duration.ofSeconds(30));
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals(30, done.requestCounts().completed());
        }
    }
}
