package io.batchllm.cuda.internal.device;

/** The sampling contract on the CPU emulator: every kernel line runs in every build that has g++. */
class EmulatedSamplingTest extends SamplingContract {

    @Override
    Gpu createGpu() {
        return EmulatedGpu.openOrSkip();
    }
}
