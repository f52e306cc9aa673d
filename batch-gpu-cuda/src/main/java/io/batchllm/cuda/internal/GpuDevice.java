package io.batchllm.cuda.internal;

import java.util.Locale;

/**
 * What the availability probe learnt about the GPU it would use (device 0).
 *
 * @param name the device's name, such as {@code NVIDIA H100 80GB HBM3}
 * @param computeMajor compute capability, major ({@code 9} for Hopper)
 * @param computeMinor compute capability, minor
 * @param totalBytes device memory
 * @param freeBytes device memory free when probed
 * @param driverVersion the driver's CUDA version as CUDA encodes it ({@code 13000} = 13.0)
 * @param runtimeVersion the loaded CUDA runtime's version, same encoding
 */
public record GpuDevice(String name, int computeMajor, int computeMinor, long totalBytes, long freeBytes,
                        int driverVersion, int runtimeVersion) {

    /** The architecture NVRTC compiles for: {@code sm_90} for compute capability 9.0. */
    public String architecture() {
        return "sm_" + computeMajor + computeMinor;
    }

    /** One line for logs: name, architecture, free and total memory, driver and runtime versions. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%s, %.1f of %.1f GiB free, driver CUDA %s, runtime %s)", name,
                architecture(), freeBytes / GIB, totalBytes / GIB, version(driverVersion), version(runtimeVersion));
    }

    /** CUDA's version encoding, 1000 × major + 10 × minor, as {@code major.minor}. */
    static String version(int encoded) {
        return encoded / 1000 + "." + (encoded % 1000) / 10;
    }

    private static final double GIB = 1024.0 * 1024 * 1024;
}
