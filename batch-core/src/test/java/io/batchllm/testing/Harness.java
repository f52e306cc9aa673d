package io.batchllm.testing;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;

/** A service on a temporary data directory with the test backend and fast polling. */
public final class Harness implements AutoCloseable {
    public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    public final Path dir;
    public final TestBackend backend;
    public final MutableClock clock;
    public final BatchService service;

    public Harness(Path dir) {
        this(dir, TestBackend.standard(), b -> b);
    }

    public Harness(Path dir, TestBackend backend, UnaryOperator<BatchService.Builder> customize) {
        this.dir = dir;
        this.backend = backend;
        this.clock = new MutableClock(START);
        this.service = customize.apply(BatchService.builder()
                .dataDirectory(dir)
                .backend(backend)
                .discoverPlugins(false)
                .clock(clock)
                .pollInterval(Duration.ofMillis(20))
                .shutdownTimeout(Duration.ofSeconds(5))).build();
    }

    public FileObject upload(String content) {
        return service.files().upload(new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)),
                "input.jsonl", FilePurpose.BATCH);
    }

    public Batch run(String content) throws InterruptedException {
        FileObject f = upload(content);
        Batch b = service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS);
        return service.batches().await(b.id(), Duration.ofSeconds(30));
    }

    public List<com.fasterxml.jackson.databind.JsonNode> lines(String fileId) {
        return Jsonl.read(service.files().content(fileId));
    }

    @Override
    public void close() {
        backend.releaseHeld();
        service.close();
    }
}
