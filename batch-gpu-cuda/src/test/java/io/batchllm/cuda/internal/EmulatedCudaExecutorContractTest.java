package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.EmulatedGpu;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.DeviceExecutorContract;
import io.batchllm.engine.model.ModelWeights;

/**
 * The {@code DeviceExecutor} contract on the CUDA executor, its kernels run by the CPU emulator. Its
 * bf16 logits are not the CPU executor's, so its seeded samples are compared with its own logits
 * sampled by the CPU's sampler ({@link HostSampledExecutor}).
 */
class EmulatedCudaExecutorContractTest extends DeviceExecutorContract {

    @Override
    protected DeviceExecutor newExecutor(ModelWeights weights) {
        return emulated(weights);
    }

    @Override
    protected DeviceExecutor referenceExecutor(ModelWeights weights) {
        return new HostSampledExecutor(emulated(weights));
    }

    static CudaExecutor emulated(ModelWeights weights) {
        return new CudaExecutor(EmulatedGpu.openOrSkip(), weights, CudaExecutor.Options.DEFAULTS);
    }
}
