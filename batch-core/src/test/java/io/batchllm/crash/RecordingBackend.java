package io.batchllm.crash;

import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.batchllm.spi.TokenUsage;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Appends the id of every request it starts to a log file (one line each, written straight to the
 * OS, so a SIGKILL loses none of them), then answers after a short delay.
 */
final class RecordingBackend implements InferenceBackend {
    private final FileOutputStream log;
    private final long delayMicros;
    private final int maxInFlight;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    RecordingBackend(Path logFile, long delayMicros, int maxInFlight) {
        try {
            this.log = new FileOutputStream(logFile.toFile(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.delayMicros = delayMicros;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public Set<String> models() {
        return Set.of("test-model");
    }

    @Override
    public int maxInFlight() {
        return maxInFlight;
    }

    @Override
    public synchronized List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
        List<CompletableFuture<InferenceResult>> out = new ArrayList<>();
        StringBuilder ids = new StringBuilder();
        for (InferenceRequest r : requests) {
            ids.append(r.requestId()).append('\n');
            CompletableFuture<InferenceResult> f = new CompletableFuture<>();
            String body = "{\"object\":\"chat.completion\",\"id\":\"" + r.requestId() + "\"}";
            timer.schedule(() -> f.complete(InferenceResult.ok(body, new TokenUsage(1, 1, 0))), delayMicros,
                    TimeUnit.MICROSECONDS);
            out.add(f);
        }
        try {
            log.write(ids.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            log.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
