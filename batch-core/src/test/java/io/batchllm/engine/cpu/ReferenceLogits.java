package io.batchllm.engine.cpu;

import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;

/**
 * The CPU executor's reference logits path ({@code CpuExecutor.step}, package private), for tests in
 * other modules that compare a device's logits with the CPU's.
 */
public final class ReferenceLogits {
    private ReferenceLogits() {
    }

    /** Reserves {@code executor}'s cache for the reference path. */
    public static void allocate(CpuExecutor executor, KvLayout layout) {
        executor.allocateKvCache(layout);
    }

    /** Runs {@code input} and returns the logits of the sequences that asked. */
    public static StepOutput step(CpuExecutor executor, StepInput input) {
        return executor.step(input);
    }
}
