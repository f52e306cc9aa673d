package io.batchllm.cuda.internal.device;

/** The attention contract on the CPU emulator: every kernel line runs in every build that has g++. */
class EmulatedAttentionTest extends AttentionContract {

    @Override
    Gpu createGpu() {
        return EmulatedGpu.openOrSkip();
    }
}
