package io.batchllm.cuda;

import io.batchllm.cuda.internal.JavaCppProbe;
import io.batchllm.cuda.internal.LazyProbe;
import io.batchllm.cuda.internal.ProbeResult;
import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;

/**
 * The {@value #NAME} backend provider, discovered through {@code META-INF/services}. Its priority
 * ({@value #PRIORITY}) is above the CPU's, so that {@code --backend auto} picks an available GPU.
 *
 * <p><b>Availability</b> is probed once per JVM, lazily (on the first {@link #availability()} call),
 * by loading the CUDA runtime, cuBLAS and NVRTC through JavaCPP and asking for device 0. Anything
 * thrown, {@link UnsatisfiedLinkError} included, becomes an "unavailable" reason that names what is
 * missing (no driver, no device, no cuBLAS, no NVRTC, too little memory) and how to fix it; the
 * service logs that reason in one line and falls back to the CPU, and {@code --backend cuda} fails at
 * start with it.
 *
 * <p><b>Status:</b> the kernels, the JavaCPP layer and the host-side weight layout exist, but the
 * executor that runs a model on them is not wired to the engine yet. Until it is, this provider
 * reports itself unavailable even when it finds a usable GPU (the reason says so and names the GPU),
 * so that {@code auto} keeps choosing the CPU.
 *
 * <p>Thread safe.
 */
public final class CudaBackendProvider implements InferenceBackendProvider {
    /** The provider's name, as {@code --backend} takes it. */
    public static final String NAME = "cuda";
    /** Above the CPU provider's 0. */
    public static final int PRIORITY = 10;

    private final LazyProbe probe;

    /** The provider ServiceLoader creates: shares the JVM-wide probe. */
    public CudaBackendProvider() {
        this(JavaCppProbe.SHARED);
    }

    /** A provider over another probe (tests inject one). */
    public CudaBackendProvider(LazyProbe probe) {
        this.probe = probe;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Availability availability() {
        ProbeResult r = probe.result();
        if (!r.usable()) {
            return Availability.unavailable(r.reason());
        }
        return Availability.unavailable("found " + r.reason() + ", but the CUDA executor is not wired to the engine "
                + "in this build yet; use --backend cpu");
    }

    /** Always refuses for now: see the class comment's status. */
    @Override
    public InferenceBackend create(BackendConfig config) {
        throw new IllegalStateException("backend 'cuda' is not available: " + availability().reason());
    }
}
