package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.device.CudaGpu;
import io.batchllm.cuda.internal.device.Gpu;
import org.junit.jupiter.api.Tag;

/** The CUDA executor's own checks on the real GPU (its logits against the CPU's print to the check's result). */
@Tag("gpu")
class CudaExecutorTest extends CudaExecutorChecks {

    @Override
    Gpu openGpu() {
        ProbeResult r = JavaCppProbe.SHARED.result();
        assumeTrue(r.usable(), () -> "no usable GPU: " + r.reason());
        return new CudaGpu(r.device());
    }
}
