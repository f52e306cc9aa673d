package io.batchllm.cuda.internal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * Registers a GPU's {@link GpuTelemetry} as Micrometer gauges, tagged {@code device} with its name:
 * {@code batchllm.gpu.memory.used} and {@code batchllm.gpu.memory.total} (bytes),
 * {@code batchllm.gpu.utilization} (percent), {@code batchllm.gpu.temperature} (Celsius) and
 * {@code batchllm.gpu.power} (watts). In Prometheus: {@code batchllm_gpu_memory_used_bytes},
 * {@code batchllm_gpu_utilization_percent}, … Each scrape reads the device afresh.
 */
public final class GpuGauges {
    private GpuGauges() {
    }

    /** Binds the five gauges of {@code telemetry} to {@code registry}. */
    public static void bind(MeterRegistry registry, GpuTelemetry telemetry, String deviceName) {
        gauge(registry, "batchllm.gpu.memory.used", "bytes", "GPU memory in use", telemetry,
                GpuTelemetry::memoryUsedBytes, deviceName);
        gauge(registry, "batchllm.gpu.memory.total", "bytes", "GPU memory", telemetry, GpuTelemetry::memoryTotalBytes,
                deviceName);
        gauge(registry, "batchllm.gpu.utilization", "percent", "Share of time a GPU kernel ran", telemetry,
                GpuTelemetry::utilizationPercent, deviceName);
        gauge(registry, "batchllm.gpu.temperature", "celsius", "GPU temperature", telemetry,
                GpuTelemetry::temperatureCelsius, deviceName);
        gauge(registry, "batchllm.gpu.power", "watts", "GPU power draw", telemetry, GpuTelemetry::powerWatts,
                deviceName);
    }

    private static void gauge(MeterRegistry registry, String name, String unit, String description,
                              GpuTelemetry telemetry, ToDoubleFunction<GpuTelemetry> reading, String device) {
        Gauge.builder(name, telemetry, reading).baseUnit(unit).description(description).tag("device", device)
                .register(registry);
    }
}
