package io.batchllm.cuda.internal;

import java.util.Objects;

/**
 * The outcome of probing for CUDA: the device found, or what is missing and how to fix it.
 *
 * @param problem what is missing, or null when a usable GPU was found
 * @param reason one line: the device (when found) or what is missing and what to do about it
 * @param device the device, when one was found (also for some problems, such as too little memory)
 */
public record ProbeResult(Problem problem, String reason, GpuDevice device) {

    /** Why CUDA cannot be used, in the order the probe checks. */
    public enum Problem {
        /** {@code libcuda.so.1} (the NVIDIA driver) cannot be loaded. */
        NO_DRIVER,
        /** The CUDA runtime {@code libcudart.so.13} cannot be loaded. */
        NO_RUNTIME,
        /** The driver is older than the runtime. */
        OLD_DRIVER,
        /** The driver loads but reports no GPU. */
        NO_DEVICE,
        /** The GPU cannot run bf16 tensor-core GEMMs (compute capability below 8.0). */
        UNSUPPORTED_DEVICE,
        /** {@code libcublas.so.13} cannot be loaded. */
        NO_CUBLAS,
        /** {@code libnvrtc.so.13} cannot be loaded, or cannot compile for this GPU. */
        NO_NVRTC,
        /** Less free device memory than the backend needs to start. */
        TOO_LITTLE_MEMORY,
        /** Something else failed while probing (the message says what). */
        PROBE_FAILED
    }

    public ProbeResult {
        Objects.requireNonNull(reason, "reason");
    }

    /** A usable GPU. */
    public static ProbeResult found(GpuDevice device) {
        return new ProbeResult(null, device.describe(), Objects.requireNonNull(device, "device"));
    }

    /** CUDA cannot be used: {@code reason} says why and what to do. */
    public static ProbeResult missing(Problem problem, String reason) {
        return new ProbeResult(Objects.requireNonNull(problem, "problem"), reason, null);
    }

    /** CUDA cannot be used on a device that was found. */
    public static ProbeResult unusable(Problem problem, String reason, GpuDevice device) {
        return new ProbeResult(Objects.requireNonNull(problem, "problem"), reason, device);
    }

    /** True when a usable GPU was found. */
    public boolean usable() {
        return problem == null;
    }
}
