package io.batchllm.spi;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the service tells a provider when it creates a backend.
 *
 * @param models model name to model file, as registered on the service builder (may be empty for
 *     backends that bring their own models)
 * @param threads CPU threads the backend may use
 * @param options free-form settings ({@code --backend-option key=value}), empty if none
 */
public record BackendConfig(Map<String, Path> models, int threads, Map<String, String> options) {
    public BackendConfig {
        models = Map.copyOf(models);
        options = Map.copyOf(options);
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
    }
}
