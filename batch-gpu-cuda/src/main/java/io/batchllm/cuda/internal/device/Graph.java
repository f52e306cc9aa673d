package io.batchllm.cuda.internal.device;

/**
 * Work captured from a {@link Stream} (a CUDA graph): replaying it issues every recorded kernel launch
 * and GEMM again, with the same arguments, in one call instead of one per launch. Closing frees it.
 */
public interface Graph extends AutoCloseable {

    /** Queues a replay on {@code stream}. */
    void launch(Stream stream);

    @Override
    void close();
}
