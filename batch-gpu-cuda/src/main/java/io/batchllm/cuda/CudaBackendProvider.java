package io.batchllm.cuda;

import io.batchllm.cuda.internal.CudaBackend;
import io.batchllm.cuda.internal.CudaExecutor;
import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.GpuTelemetry;
import io.batchllm.cuda.internal.JavaCppProbe;
import io.batchllm.cuda.internal.LazyProbe;
import io.batchllm.cuda.internal.ProbeResult;
import io.batchllm.cuda.internal.device.CudaGpu;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.cuda.internal.device.NvmlTelemetry;
import io.batchllm.engine.LocalBackend;
import io.batchllm.engine.LocalExecutorProvider;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Function;
import java.util.function.Supplier;

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
 * <p><b>What it creates:</b> the local engine over a CUDA executor per model on device 0 (weights in
 * bf16, the KV cache sized from free memory), with the GPU's NVML gauges among its meters. Backend
 * options, besides the engine's ({@code max_sequences}, {@code max_step_tokens}, {@code kv_cache_tokens},
 * {@code kv_block_size}, {@code prefix_sharing}): {@code gpu_memory_fraction} (the part of the free
 * memory the KV cache may take, default 0.9) and {@code cuda_graphs} ({@code true} or {@code false},
 * default true). Any other option is refused by name.
 *
 * <p>Thread safe.
 */
public final class CudaBackendProvider implements InferenceBackendProvider, LocalExecutorProvider {
    /** The provider's name, as {@code --backend} takes it. */
    public static final String NAME = "cuda";
    /** Above the CPU provider's 0. */
    public static final int PRIORITY = 10;

    private final LazyProbe probe;
    private final Function<GpuDevice, Gpu> gpus;
    private final Supplier<? extends GpuTelemetry> telemetry;
    private final Clock clock;

    /** The provider ServiceLoader creates: shares the JVM-wide probe. */
    public CudaBackendProvider() {
        this(JavaCppProbe.SHARED);
    }

    /** A provider over another probe (tests inject one). */
    public CudaBackendProvider(LazyProbe probe) {
        this(probe, CudaGpu::new, NvmlTelemetry::new, Clock.systemUTC());
    }

    /** A provider whose devices and telemetry come from elsewhere (the tests' CPU emulator). */
    CudaBackendProvider(LazyProbe probe, Function<GpuDevice, Gpu> gpus, Supplier<? extends GpuTelemetry> telemetry,
                        Clock clock) {
        this.probe = probe;
        this.gpus = gpus;
        this.telemetry = telemetry;
        this.clock = clock;
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
        return r.usable() ? Availability.available(r.reason()) : Availability.unavailable(r.reason());
    }

    /**
     * The engine over a CUDA executor per model.
     *
     * @throws IllegalStateException if no usable GPU was found, with the probe's reason
     * @throws IllegalArgumentException for a bad or unknown backend option, naming it
     * @throws io.batchllm.engine.gguf.ModelFormatException naming a model that cannot be loaded
     */
    @Override
    public InferenceBackend create(BackendConfig config) {
        GpuDevice device = usableDevice();
        CudaExecutor.Options options = CudaExecutor.Options.fromBackendOptions(config.options());
        LocalBackend local = LocalBackend.load(config, NAME, path -> load(path, device, options), clock,
                CudaExecutor.Options.NAMES);
        return CudaBackend.of(local, telemetry, device.name());
    }

    /** A bare CUDA executor of {@code gguf}, for {@code bench}. */
    @Override
    public DeviceExecutor loadExecutor(Path gguf, BackendConfig config) {
        GpuDevice device = usableDevice();
        return load(gguf, device, CudaExecutor.Options.fromBackendOptions(config.options()));
    }

    private CudaExecutor load(Path gguf, GpuDevice device, CudaExecutor.Options options) {
        return CudaExecutor.load(gguf, () -> gpus.apply(device), options);
    }

    private GpuDevice usableDevice() {
        ProbeResult r = probe.result();
        if (!r.usable()) {
            throw new IllegalStateException("backend 'cuda' is not available: " + r.reason());
        }
        return r.device();
    }
}
