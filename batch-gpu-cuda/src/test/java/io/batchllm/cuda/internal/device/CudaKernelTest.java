package io.batchllm.cuda.internal.device;

import org.junit.jupiter.api.Tag;

/** The kernel contract on the real GPU (CUDA runtime, NVRTC CUBIN for the device, cuBLAS). */
@Tag("gpu")
class CudaKernelTest extends KernelContract {

    @Override
    Gpu createGpu() {
        return RealGpu.open();
    }
}
