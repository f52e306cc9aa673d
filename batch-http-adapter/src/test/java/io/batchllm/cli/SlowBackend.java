package io.batchllm.cli;

import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.batchllm.spi.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A backend for child-JVM tests: serves {@code test-model}, answers each request after a delay, and
 * prints {@code answered <request id>} on stdout just before it hands the answer to the service, so
 * that a test knows which answers the service must have stored.
 */
final class SlowBackend implements InferenceBackend {
    private final int maxInFlight;
    private final long delayMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().factory());

    SlowBackend(int maxInFlight, long delayMillis) {
        this.maxInFlight = maxInFlight;
        this.delayMillis = delayMillis;
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
    public List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
        List<CompletableFuture<InferenceResult>> out = new ArrayList<>();
        for (InferenceRequest r : requests) {
            CompletableFuture<InferenceResult> f = new CompletableFuture<>();
            timer.schedule(() -> {
                System.out.println("answered " + r.requestId());
                f.complete(InferenceResult.ok("{\"object\":\"chat.completion\",\"id\":\"" + r.requestId() + "\"}",
                        new TokenUsage(1, 1, 0)));
            }, delayMillis, TimeUnit.MILLISECONDS);
            out.add(f);
        }
        return out;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
