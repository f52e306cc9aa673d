package io.batchllm.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.JavaCppProbe;
import io.batchllm.cuda.internal.ProbeResult;
import org.junit.jupiter.api.Tag;

/** The CUDA backend through the batch service on the real GPU, found by the real probe, with NVML's gauges. */
@Tag("gpu")
class CudaBackendServiceTest extends CudaBackendServiceContract {

    @Override
    CudaBackendProvider provider() {
        ProbeResult r = JavaCppProbe.SHARED.result();
        assumeTrue(r.usable(), () -> "no usable GPU: " + r.reason());
        return new CudaBackendProvider();
    }

    @Override
    String deviceName() {
        return JavaCppProbe.SHARED.result().device().name();
    }
}
