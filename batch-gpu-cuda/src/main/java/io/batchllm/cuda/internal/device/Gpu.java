package io.batchllm.cuda.internal.device;

import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.KernelSource;

/**
 * One GPU, as the executor uses it: memory, pinned host memory, streams, kernels compiled for it and
 * GEMMs. The real implementation is {@link CudaGpu} (JavaCPP over the CUDA runtime, NVRTC and
 * cuBLAS); the tests also run the kernels, and the whole executor, through an emulator that
 * implements this interface on the CPU.
 *
 * <p>Not thread safe: one engine thread drives it. What it hands out (buffers, streams, modules, GEMM
 * handles) is closed by the caller; {@link #close()} waits for the device to finish.
 */
public interface Gpu extends AutoCloseable {

    /** The device, as probed. */
    GpuDevice device();

    /**
     * Reserves {@code bytes} of device memory (contents undefined).
     *
     * @throws IllegalStateException if the device cannot give that much, naming the size
     */
    DeviceBuffer allocate(long bytes);

    /**
     * Reserves {@code bytes} of page-locked host memory: what asynchronous copies read from and write
     * to (a copy from pageable memory would make the host wait for it).
     *
     * @throws IllegalStateException if the host cannot give that much
     */
    PinnedBuffer allocatePinned(long bytes);

    /** A new stream. */
    Stream newStream();

    /** Compiles {@code source} for this device and loads it. */
    KernelModule load(KernelSource source);

    /** A GEMM handle whose calls go to {@code stream}. */
    Blas blas(Stream stream);

    /** Free and total device memory now, in bytes: {@code [free, total]}. */
    long[] memoryInfo();

    @Override
    void close();
}
