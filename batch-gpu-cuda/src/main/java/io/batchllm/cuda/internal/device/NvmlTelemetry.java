package io.batchllm.cuda.internal.device;

import io.batchllm.cuda.internal.GpuTelemetry;
import org.bytedeco.cuda.global.nvml;
import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.cuda.nvml.nvmlMemory_t;
import org.bytedeco.cuda.nvml.nvmlUtilization_t;

/**
 * {@link GpuTelemetry} from NVML ({@code libnvidia-ml.so.1}, which comes with the driver) for device
 * 0. Each reading is one NVML call; a failing call reads NaN rather than failing the scrape.
 */
public final class NvmlTelemetry implements GpuTelemetry {
    private final nvmlDevice_st device = new nvmlDevice_st();

    /**
     * Initializes NVML and opens device 0.
     *
     * @throws IllegalStateException if NVML cannot be initialized (the gauges are then left out)
     */
    public NvmlTelemetry() {
        check(nvml.nvmlInit_v2(), "nvmlInit");
        check(nvml.nvmlDeviceGetHandleByIndex_v2(0, device), "nvmlDeviceGetHandleByIndex(0)");
    }

    private static void check(int err, String call) {
        if (err != nvml.NVML_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + nvml.nvmlErrorString(err).getString());
        }
    }

    @Override
    public synchronized double memoryUsedBytes() {
        try (nvmlMemory_t m = new nvmlMemory_t()) {
            return nvml.nvmlDeviceGetMemoryInfo(device, m) == nvml.NVML_SUCCESS ? m.used() : Double.NaN;
        }
    }

    @Override
    public synchronized double memoryTotalBytes() {
        try (nvmlMemory_t m = new nvmlMemory_t()) {
            return nvml.nvmlDeviceGetMemoryInfo(device, m) == nvml.NVML_SUCCESS ? m.total() : Double.NaN;
        }
    }

    @Override
    public synchronized double utilizationPercent() {
        try (nvmlUtilization_t u = new nvmlUtilization_t()) {
            return nvml.nvmlDeviceGetUtilizationRates(device, u) == nvml.NVML_SUCCESS ? u.gpu() : Double.NaN;
        }
    }

    @Override
    public synchronized double temperatureCelsius() {
        int[] t = new int[1];
        return nvml.nvmlDeviceGetTemperature(device, nvml.NVML_TEMPERATURE_GPU, t) == nvml.NVML_SUCCESS ? t[0]
                : Double.NaN;
    }

    @Override
    public synchronized double powerWatts() {
        int[] milliwatts = new int[1];
        return nvml.nvmlDeviceGetPowerUsage(device, milliwatts) == nvml.NVML_SUCCESS ? milliwatts[0] / 1000.0
                : Double.NaN;
    }

    @Override
    public synchronized void close() {
        nvml.nvmlShutdown();
    }
}
