package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;

/** The attention contract on the CPU emulator. */
class EmulatedAttentionTest extends AttentionContract {

    @BeforeAll
    static void needsACompiler() {
        assumeTrue(EmulatedGpu.available(), "g++ is not on the PATH: the kernels cannot be emulated here");
    }

    @Override
    Gpu createGpu() {
        return new EmulatedGpu();
    }
}
