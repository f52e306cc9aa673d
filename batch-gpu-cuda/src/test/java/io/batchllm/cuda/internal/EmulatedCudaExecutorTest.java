package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.device.EmulatedGpu;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SyntheticModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA executor's own checks on the CPU emulator, and what only the emulator can see: its memory. */
class EmulatedCudaExecutorTest extends CudaExecutorChecks {

    @Override
    Gpu openGpu() {
        return EmulatedGpu.openOrSkip();
    }

    @Test
    void closingTheExecutorFreesEveryDeviceBufferItAllocated() {
        EmulatedGpu gpu = EmulatedGpu.openOrSkip();
        CudaExecutor ex = new CudaExecutor(gpu, SyntheticModel.llama().vocab(300).build().weights(),
                CudaExecutor.Options.DEFAULTS);
        ex.allocateKvCache(new KvLayout(16, 8), 2);
        Generations.greedy(ex, List.of(new int[] {1, 2, 3}), 4);
        assertTrue(gpu.allocatedBytes() > 0);
        ex.allocateKvCache(new KvLayout(16, 4), 1);
        ex.close();
        assertEquals(0, gpu.allocatedBytes());
    }
}
