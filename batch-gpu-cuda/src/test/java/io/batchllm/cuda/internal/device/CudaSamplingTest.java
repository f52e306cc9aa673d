package io.batchllm.cuda.internal.device;

import org.junit.jupiter.api.Tag;

/** The sampling contract on the real GPU (CUDA runtime, NVRTC CUBIN for the device, cuBLAS). */
@Tag("gpu")
class CudaSamplingTest extends SamplingContract {

    @Override
    Gpu createGpu() {
        return RealGpu.open();
    }
}
