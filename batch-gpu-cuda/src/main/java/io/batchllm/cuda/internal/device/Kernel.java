package io.batchllm.cuda.internal.device;

/** One compiled kernel, launched on a stream. */
public interface Kernel {

    /** Its name ({@code extern "C"} symbol). */
    String name();

    /** Queues a launch; returns at once. Launch errors surface as {@link IllegalStateException}. */
    void launch(LaunchShape shape, Stream stream, KernelArgs args);
}
