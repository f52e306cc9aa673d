package io.batchllm.cuda.internal.device;

/** The kernels of one compiled {@link io.batchllm.cuda.internal.KernelSource}; closing unloads them. */
public interface KernelModule extends AutoCloseable {

    /**
     * The kernel named {@code name}.
     *
     * @throws IllegalArgumentException if the module has no such kernel
     */
    Kernel kernel(String name);

    @Override
    void close();
}
