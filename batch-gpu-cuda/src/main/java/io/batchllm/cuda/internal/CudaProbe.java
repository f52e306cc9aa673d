package io.batchllm.cuda.internal;

/**
 * Looks for a usable GPU. Implementations may throw anything, including {@link Error}s such as
 * {@link UnsatisfiedLinkError}: {@link LazyProbe} turns every throwable into a result.
 */
@FunctionalInterface
public interface CudaProbe {

    /** Probes the machine; may be slow (it loads native libraries) and may throw. */
    ProbeResult probe() throws Throwable;
}
