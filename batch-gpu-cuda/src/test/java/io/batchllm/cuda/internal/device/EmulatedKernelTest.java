package io.batchllm.cuda.internal.device;

/** The kernel contract on the CPU emulator: every kernel line runs in every build that has g++. */
class EmulatedKernelTest extends KernelContract {

    @Override
    Gpu createGpu() {
        return EmulatedGpu.openOrSkip();
    }
}
