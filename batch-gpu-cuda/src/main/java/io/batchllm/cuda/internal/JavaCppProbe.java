package io.batchllm.cuda.internal;

import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMajor;
import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMinor;
import static org.bytedeco.cuda.global.cudart.cudaErrorInsufficientDriver;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import io.batchllm.cuda.internal.ProbeResult.Problem;
import java.nio.charset.StandardCharsets;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The real probe, through JavaCPP: loads the CUDA runtime (and with it the driver), asks for device 0,
 * its compute capability and free memory, then loads cuBLAS and NVRTC and checks that NVRTC can
 * compile for that GPU. Every CUDA error code is checked before its output is read: with a driver
 * older than the runtime, {@code cudaGetDeviceCount} returns error 35 and leaves garbage in the count.
 *
 * <p>Only functions that the CUDA 13.0 runtime exports are called (the binding is built against 13.1).
 */
public final class JavaCppProbe implements CudaProbe {
    /** Free device memory below which the backend does not start: weights and the KV cache need more. */
    public static final long MIN_FREE_BYTES = 1L << 30;
    /** Compute capability needed for bf16 tensor-core GEMMs in cuBLAS (Ampere). */
    static final int MIN_COMPUTE_MAJOR = 8;

    /** The probe every default-constructed provider shares, so the JVM probes once. */
    public static final LazyProbe SHARED = new LazyProbe(new JavaCppProbe());

    /** Use {@link #SHARED}: a second probe in the same JVM no longer sees why the first load failed. */
    JavaCppProbe() {
    }

    @Override
    public ProbeResult probe() {
        Loader.load(cudart.class);
        int[] value = new int[1];
        int driver = check(cudart.cudaDriverGetVersion(value), value);
        int runtime = check(cudart.cudaRuntimeGetVersion(value), value);
        int err = cudart.cudaGetDeviceCount(value);
        if (err == cudaErrorInsufficientDriver) {
            return ProbeResult.missing(Problem.OLD_DRIVER, "the NVIDIA driver (CUDA " + GpuDevice.version(driver)
                    + ") is older than the CUDA runtime " + GpuDevice.version(runtime) + "; update the driver");
        }
        if (err != cudaSuccess || value[0] < 1) {
            return ProbeResult.missing(Problem.NO_DEVICE, "the NVIDIA driver reports no GPU ("
                    + (err != cudaSuccess ? errorName(err) : "0 devices") + ")");
        }
        checkCall(cudart.cudaSetDevice(0), "cudaSetDevice");
        int major = check(cudart.cudaDeviceGetAttribute(value, cudaDevAttrComputeCapabilityMajor, 0), value);
        int minor = check(cudart.cudaDeviceGetAttribute(value, cudaDevAttrComputeCapabilityMinor, 0), value);
        GpuDevice device;
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            checkCall(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            device = new GpuDevice(deviceName(), major, minor, total.get(), free.get(), driver, runtime);
        }
        if (major < MIN_COMPUTE_MAJOR) {
            return ProbeResult.unusable(Problem.UNSUPPORTED_DEVICE, device.describe() + " has compute capability "
                    + major + "." + minor + "; the CUDA backend needs 8.0 or newer (bf16 tensor cores)", device);
        }
        Loader.load(cublas.class);
        Loader.load(nvrtc.class);
        ProbeResult nvrtcProblem = checkNvrtcArchitecture(device);
        if (nvrtcProblem != null) {
            return nvrtcProblem;
        }
        if (device.freeBytes() < MIN_FREE_BYTES) {
            return ProbeResult.unusable(Problem.TOO_LITTLE_MEMORY, device.describe() + " has less than "
                    + (MIN_FREE_BYTES >> 20) + " MiB free; free GPU memory (other processes hold it) or use another GPU",
                    device);
        }
        return ProbeResult.found(device);
    }

    /** NVRTC must list the device's architecture, or the kernels cannot be compiled to CUBIN for it. */
    private static ProbeResult checkNvrtcArchitecture(GpuDevice device) {
        int[] count = new int[1];
        checkNvrtc(nvrtc.nvrtcGetNumSupportedArchs(count));
        int[] archs = new int[count[0]];
        checkNvrtc(nvrtc.nvrtcGetSupportedArchs(archs));
        int wanted = device.computeMajor() * 10 + device.computeMinor();
        for (int a : archs) {
            if (a == wanted) {
                return null;
            }
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        checkNvrtc(nvrtc.nvrtcVersion(major, minor));
        return ProbeResult.unusable(Problem.NO_NVRTC, "NVRTC " + major[0] + "." + minor[0] + " cannot compile for "
                + device.architecture() + " (" + device.name() + "); use an NVRTC that supports it", device);
    }

    private static String deviceName() {
        int[] handle = new int[1];
        checkCall(cudart.cuInit(0), "cuInit");
        checkCall(cudart.cuDeviceGet(handle, 0), "cuDeviceGet");
        byte[] name = new byte[256];
        checkCall(cudart.cuDeviceGetName(name, name.length, handle[0]), "cuDeviceGetName");
        int n = 0;
        while (n < name.length && name[n] != 0) {
            n++;
        }
        return new String(name, 0, n, StandardCharsets.UTF_8);
    }

    private static int check(int err, int[] value) {
        checkCall(err, "CUDA");
        return value[0];
    }

    private static void checkCall(int err, String what) {
        if (err != cudaSuccess) {
            throw new IllegalStateException(what + " failed: " + errorName(err));
        }
    }

    private static void checkNvrtc(int err) {
        if (err != nvrtc.NVRTC_SUCCESS) {
            throw new IllegalStateException("NVRTC failed: " + nvrtc.nvrtcGetErrorString(err).getString());
        }
    }

    private static String errorName(int err) {
        return "CUDA error " + err + " (" + cudart.cudaGetErrorString(err).getString() + ")";
    }
}
