package io.batchllm.cuda.internal.device;

/** GEMMs on one stream (cuBLAS, or the emulator's reference loops in tests). Not thread safe. */
public interface Blas extends AutoCloseable {

    /**
     * Queues {@code call} with A, B and C at the given device addresses.
     *
     * @throws IllegalStateException if the library refuses the call
     */
    void gemm(GemmCall call, long a, long b, long c);

    /**
     * Gives the library a fixed workspace for its calls, so that it never allocates one while a stream
     * is captured into a graph (cuBLAS's rule for graph capture).
     */
    void useWorkspace(DeviceBuffer workspace);

    @Override
    void close();
}
