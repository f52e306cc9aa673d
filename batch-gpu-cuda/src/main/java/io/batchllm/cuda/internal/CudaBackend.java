package io.batchllm.cuda.internal;

import io.batchllm.engine.LocalBackend;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA backend: a {@link LocalBackend} whose engines run on {@link CudaExecutor}s, plus the GPU's
 * NVML gauges ({@link GpuGauges}) among its meters, which the batch service binds to its registry
 * with the engines' own. When NVML cannot be read the gauges are left out, with one warning; the
 * backend works without them.
 *
 * <p>Thread safe. Owns the local backend and the telemetry.
 */
public final class CudaBackend implements InferenceBackend, MeterBinder {
    private static final Logger log = LoggerFactory.getLogger(CudaBackend.class);

    private final LocalBackend local;
    private final GpuTelemetry telemetry;
    private final String deviceName;

    private CudaBackend(LocalBackend local, GpuTelemetry telemetry, String deviceName) {
        this.local = local;
        this.telemetry = telemetry;
        this.deviceName = deviceName;
    }

    /** The backend over {@code local}, reading the GPU called {@code deviceName} through {@code telemetry}. */
    public static CudaBackend of(LocalBackend local, Supplier<? extends GpuTelemetry> telemetry, String deviceName) {
        GpuTelemetry t;
        try {
            t = telemetry.get();
        } catch (RuntimeException | LinkageError e) {
            log.warn("the GPU gauges are left out: NVML cannot be read ({})", e.getMessage());
            t = null;
        }
        return new CudaBackend(local, t, deviceName);
    }

    /** The engines' meters, and the GPU's memory, utilization, temperature and power gauges. */
    @Override
    public void bindTo(MeterRegistry registry) {
        local.bindTo(registry);
        if (telemetry != null) {
            GpuGauges.bind(registry, telemetry, deviceName);
        }
    }

    @Override
    public Set<String> models() {
        return local.models();
    }

    @Override
    public Set<String> endpoints() {
        return local.endpoints();
    }

    @Override
    public int maxInFlight() {
        return local.maxInFlight();
    }

    @Override
    public List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
        return local.submit(requests);
    }

    @Override
    public void close() {
        try {
            local.close();
        } finally {
            if (telemetry != null) {
                telemetry.close();
            }
        }
    }
}
