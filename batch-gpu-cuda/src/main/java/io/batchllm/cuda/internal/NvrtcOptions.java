package io.batchllm.cuda.internal;

import java.util.List;

/**
 * The NVRTC options the kernels are compiled with. {@code --gpu-architecture=sm_XY} (a real
 * architecture, not {@code compute_XY}) makes NVRTC produce CUBIN for exactly the device found, so
 * the driver never JIT-compiles PTX at load.
 */
public final class NvrtcOptions {
    private NvrtcOptions() {
    }

    /** The options for {@code device}'s architecture. */
    public static List<String> forDevice(GpuDevice device) {
        return forArchitecture(device.architecture());
    }

    /** The options for an architecture such as {@code sm_90}. */
    public static List<String> forArchitecture(String architecture) {
        if (!architecture.matches("sm_[0-9]{2,3}[a-z]?")) {
            throw new IllegalArgumentException("architecture must look like sm_90, got '" + architecture + "'");
        }
        // no --use_fast_math: expf, division and sqrt stay IEEE-accurate, as the CPU's float math is
        return List.of("--gpu-architecture=" + architecture, "--std=c++17");
    }
}
