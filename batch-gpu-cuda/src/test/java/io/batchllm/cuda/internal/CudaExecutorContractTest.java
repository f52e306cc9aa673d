package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.device.CudaGpu;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.DeviceExecutorContract;
import io.batchllm.engine.model.ModelWeights;
import org.junit.jupiter.api.Tag;

/** The {@code DeviceExecutor} contract on the CUDA executor and a real GPU. */
@Tag("gpu")
class CudaExecutorContractTest extends DeviceExecutorContract {

    @Override
    protected DeviceExecutor newExecutor(ModelWeights weights) {
        return real(weights);
    }

    @Override
    protected DeviceExecutor referenceExecutor(ModelWeights weights) {
        return new HostSampledExecutor(real(weights));
    }

    private static CudaExecutor real(ModelWeights weights) {
        ProbeResult r = JavaCppProbe.SHARED.result();
        assumeTrue(r.usable(), () -> "no usable GPU: " + r.reason());
        return new CudaExecutor(new CudaGpu(r.device()), weights, CudaExecutor.Options.DEFAULTS);
    }
}
