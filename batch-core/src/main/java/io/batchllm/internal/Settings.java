package io.batchllm.internal;

import io.batchllm.ratelimit.RateLimiter;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import io.batchllm.spi.ResultHandler;
import io.batchllm.store.JobStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The immutable snapshot a {@code BatchService.Builder} produces; the running service reads only this.
 */
public record Settings(
        Path dataDirectory,
        Supplier<JobStore> jobStore,
        Clock clock,
        MeterRegistry meterRegistry,
        List<ResultHandler> handlers,
        List<InferenceBackend> backends,
        List<InferenceBackendProvider> providers,
        Map<String, Path> models,
        String backendName,
        Map<String, String> backendOptions,
        int threads,
        int maxInFlight,
        Duration leaseDuration,
        Duration pollInterval,
        Duration shutdownTimeout,
        long maxFileBytes,
        long maxBatchFileBytes,
        ValidationLimits validation,
        RateLimiter uploadRateLimiter,
        RateLimiter batchRateLimiter,
        HandlerDispatcher.HandlerRetry handlerRetry,
        String nodeId) {
}
