package io.batchllm.engine.cpu;

import io.batchllm.engine.EngineLimits;
import io.batchllm.engine.LocalBackend;
import io.batchllm.engine.LocalExecutorProvider;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The {@value #NAME} backend: every model runs on a {@link CpuExecutor} with
 * {@link BackendConfig#threads()} threads, behind a {@link io.batchllm.engine.LocalEngine}. Discovered
 * through {@code META-INF/services}; priority 0, so an available GPU backend wins.
 *
 * <p>Available when the JVM has the Vector API module ({@code --add-modules jdk.incubator.vector}).
 * Backend options: {@value EngineLimits#MAX_SEQUENCES_OPTION}, {@value EngineLimits#MAX_STEP_TOKENS_OPTION},
 * {@value EngineLimits#KV_CACHE_TOKENS_OPTION}, {@value EngineLimits#KV_BLOCK_SIZE_OPTION} and
 * {@value EngineLimits#PREFIX_SHARING_OPTION} (see {@link EngineLimits}). Stateless and thread safe.
 */
public final class CpuBackendProvider implements InferenceBackendProvider, LocalExecutorProvider {
    /** The provider's name. */
    public static final String NAME = "cpu";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    private final Clock clock;

    /** A provider whose responses take {@code created} from the system clock. */
    public CpuBackendProvider() {
        this(Clock.systemUTC());
    }

    /** A provider whose responses take {@code created} from {@code clock}. */
    public CpuBackendProvider(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return Availability.unavailable("the Vector API module is missing: start Java with --add-modules "
                    + VECTOR_MODULE);
        }
        return Availability.available("the CPU, with the Vector API");
    }

    /**
     * Loads every model with {@link CpuExecutor#load(java.nio.file.Path, int)}.
     *
     * @throws io.batchllm.engine.gguf.ModelFormatException naming the model and file that cannot be loaded
     */
    @Override
    public InferenceBackend create(BackendConfig config) {
        return LocalBackend.load(config, NAME, path -> CpuExecutor.load(path, config.threads()), clock);
    }

    /**
     * A {@link CpuExecutor} with {@link BackendConfig#threads()} threads. The CPU has no options of its
     * own; the engine's are checked (an unknown one is refused) and left to the engine.
     */
    @Override
    public DeviceExecutor loadExecutor(Path gguf, BackendConfig config) {
        EngineLimits.fromOptions(config.options());
        return CpuExecutor.load(gguf, config.threads());
    }
}
