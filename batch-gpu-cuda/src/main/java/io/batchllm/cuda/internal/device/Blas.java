package io.batchllm.cuda.internal.device;

/** GEMMs on one stream (cuBLAS, or the emulator's reference loops in tests). Not thread safe. */
public interface Blas extends AutoCloseable {

    /**
     * Queues {@code call} with A, B and C at the given device addresses.
     *
     * @throws IllegalStateException if the library refuses the call
     */
    void gemm(GemmCall call, long a, long b, long c);

    @Override
    void close();
}
