package io.batchllm.cuda.internal.device;

import org.junit.jupiter.api.Tag;

/** The attention contract on the real GPU (CUDA runtime, NVRTC CUBIN for the device, cuBLAS). */
@Tag("gpu")
class CudaAttentionTest extends AttentionContract {

    @Override
    Gpu createGpu() {
        return RealGpu.open();
    }
}
