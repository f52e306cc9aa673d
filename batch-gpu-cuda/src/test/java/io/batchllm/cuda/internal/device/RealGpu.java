package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.JavaCppProbe;
import io.batchllm.cuda.internal.ProbeResult;

/** The GPU of the {@code gpu}-tagged tests: the probed device 0, or the test is skipped with the probe's reason. */
final class RealGpu {
    private RealGpu() {
    }

    static ProbeResult probe() {
        ProbeResult r = JavaCppProbe.SHARED.result();
        assumeTrue(r.usable(), () -> "no usable GPU: " + r.reason());
        return r;
    }

    static Gpu open() {
        return new CudaGpu(probe().device());
    }
}
