package io.batchllm.cuda.internal;

/**
 * Readings of one GPU's health, for the metrics gauges. A reading the device cannot give (a GPU
 * without a power sensor, say) is {@link Double#NaN}. Implementations are called from the metrics
 * scrape thread and must be thread safe.
 */
public interface GpuTelemetry extends AutoCloseable {

    /** Device memory in use, bytes. */
    double memoryUsedBytes();

    /** Device memory, bytes. */
    double memoryTotalBytes();

    /** Percent of the last sample period in which a kernel ran (0 to 100). */
    double utilizationPercent();

    /** Core temperature, degrees Celsius. */
    double temperatureCelsius();

    /** Power draw, watts. */
    double powerWatts();

    @Override
    default void close() {
    }
}
