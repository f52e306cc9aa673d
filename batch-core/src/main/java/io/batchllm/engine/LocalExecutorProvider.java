package io.batchllm.engine;

import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.spi.BackendConfig;
import java.nio.file.Path;

/**
 * Implemented by a backend provider whose models run on the local engine: it can also hand out the
 * bare {@link DeviceExecutor} of a model, for tools that drive a device directly through the executor
 * contract ({@code batchllm bench}), without the engine around it. The CPU and CUDA providers
 * implement it; tools find it as an {@link io.batchllm.spi.InferenceBackendProvider} that is also one
 * of these.
 */
public interface LocalExecutorProvider {

    /**
     * Loads {@code gguf} onto this provider's device. The provider must be available.
     *
     * @param config the threads and backend options that concern the device; its models are ignored
     * @throws io.batchllm.engine.gguf.ModelFormatException if the file cannot be loaded
     * @throws IllegalArgumentException for a bad or unknown backend option, naming it
     * @throws IllegalStateException if the device is not available
     */
    DeviceExecutor loadExecutor(Path gguf, BackendConfig config);
}
