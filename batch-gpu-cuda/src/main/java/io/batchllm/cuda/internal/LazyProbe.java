package io.batchllm.cuda.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link CudaProbe} once, on first use, and keeps its result for the life of the JVM.
 *
 * <p>Once matters: when a JNI library fails to load, its class's static initializer fails, and every
 * later touch of that class throws {@link NoClassDefFoundError} "Could not initialize class …", which
 * hides the real cause (say, a missing {@code libcuda.so.1}). So the first failure is the one kept.
 * Any {@link Throwable} becomes a {@link ProbeResult.Problem#PROBE_FAILED} result (or the problem
 * {@link NativeFailures} recognizes); the full stack trace is logged once at debug level, for the
 * one-line reason is what users see (the backend registry logs it).
 *
 * <p>Thread safe.
 */
public final class LazyProbe {
    private static final Logger log = LoggerFactory.getLogger(LazyProbe.class);

    private final CudaProbe probe;
    private volatile ProbeResult result;

    public LazyProbe(CudaProbe probe) {
        this.probe = probe;
    }

    /** The probe's result, probing now if this is the first call. Never throws. */
    public ProbeResult result() {
        ProbeResult r = result;
        if (r == null) {
            synchronized (this) {
                r = result;
                if (r == null) {
                    r = runOnce();
                    result = r;
                }
            }
        }
        return r;
    }

    private ProbeResult runOnce() {
        try {
            ProbeResult r = probe.probe();
            if (r == null) {
                return ProbeResult.missing(ProbeResult.Problem.PROBE_FAILED, "the CUDA probe returned no result");
            }
            return r;
        } catch (Throwable t) {
            log.debug("the CUDA probe failed", t);
            return NativeFailures.classify(t);
        }
    }
}
