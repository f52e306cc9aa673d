package io.batchllm.internal;

import io.batchllm.BatchStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The service's meters. Names and tags are documented in {@code docs/operations.md}; keep the two in
 * step.
 */
public final class ServiceMetrics {
    private final MeterRegistry registry;
    private final LongSupplier generatedTokens;
    private final Map<BatchStatus, Counter> transitions = new EnumMap<>(BatchStatus.class);
    private final Counter requestsSucceeded;
    private final Counter requestsFailed;
    private final Counter tokensIn;
    private final Counter tokensOut;
    private final Timer latency;
    private final Counter staleCompletions;
    private final Map<String, Counter> handlerFailures = new ConcurrentHashMap<>();
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong queueDepth = new AtomicLong();
    private final AtomicLong outboxDepth = new AtomicLong();

    /** @param generatedTokens the backends' live token count ({@code batchllm.tokens.generated}) */
    public ServiceMetrics(MeterRegistry registry, java.util.function.LongSupplier generatedTokens) {
        this.registry = registry;
        this.generatedTokens = generatedTokens; // the meter holds it weakly
        FunctionCounter.builder("batchllm.tokens.generated", generatedTokens, LongSupplier::getAsLong)
                .description("Completion tokens the backends generated, unfinished requests included")
                .register(registry);
        for (BatchStatus s : BatchStatus.values()) {
            transitions.put(s, Counter.builder("batchllm.batches")
                    .description("Batches that entered a status")
                    .tag("status", s.wire()).register(registry));
        }
        requestsSucceeded = Counter.builder("batchllm.requests.finished").tag("outcome", "success")
                .description("Request lines finished").register(registry);
        requestsFailed = Counter.builder("batchllm.requests.finished").tag("outcome", "failure")
                .description("Request lines finished").register(registry);
        tokensIn = Counter.builder("batchllm.tokens").tag("direction", "input")
                .description("Tokens read (prompt) and written (completion)").register(registry);
        tokensOut = Counter.builder("batchllm.tokens").tag("direction", "output")
                .description("Tokens read (prompt) and written (completion)").register(registry);
        latency = Timer.builder("batchllm.request.latency")
                .description("Time from handing a request to the backend until its result is stored")
                .publishPercentileHistogram().register(registry);
        staleCompletions = Counter.builder("batchllm.requests.stale")
                .description("Results discarded because their lease had passed to another worker").register(registry);
        Gauge.builder("batchllm.requests.in_flight", inFlight, AtomicLong::get)
                .description("Requests handed to backends and not yet stored").register(registry);
        Gauge.builder("batchllm.queue.depth", queueDepth, AtomicLong::get)
                .description("Request lines waiting to run, as of the last check").register(registry);
        Gauge.builder("batchllm.outbox.depth", outboxDepth, AtomicLong::get)
                .description("Handler events waiting for delivery, as of the last poll").register(registry);
    }

    public void batchEntered(BatchStatus s) {
        transitions.get(s).increment();
    }

    public void requestFinished(boolean success, long promptTokens, long completionTokens, Duration took) {
        (success ? requestsSucceeded : requestsFailed).increment();
        tokensIn.increment(promptTokens);
        tokensOut.increment(completionTokens);
        if (took != null) {
            latency.record(took);
        }
    }

    /** Lines that never ran count as failed requests. */
    public void requestsUnrun(long n) {
        requestsFailed.increment(n);
    }

    public void staleCompletion() {
        staleCompletions.increment();
    }

    public void handlerFailed(String handler) {
        handlerFailures.computeIfAbsent(handler, h -> Counter.builder("batchllm.handler.failures")
                .description("Handler events given up after retries").tag("handler", h).register(registry)).increment();
    }

    public AtomicLong inFlight() {
        return inFlight;
    }

    public void queueDepth(long n) {
        queueDepth.set(n);
    }

    public void outboxDepth(long n) {
        outboxDepth.set(n);
    }
}
