package io.batchllm.cli;

import io.batchllm.BatchService;
import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code run-batch} asks of the service it starts.
 *
 * @param dataDirectory where the job store and stored files live
 * @param models model name to GGUF file
 * @param backend a backend provider name ({@code cpu}, {@code cuda}) or null for the best available
 * @param threads CPU threads, or null for the service default (all processors)
 * @param engineOptions backend options ({@code --engine-option KEY=VALUE}), passed on as they are
 */
record ServiceConfig(Path dataDirectory, Map<String, Path> models, String backend, Integer threads,
                     Map<String, String> engineOptions) {

    ServiceConfig {
        models = Map.copyOf(models);
        engineOptions = Map.copyOf(engineOptions);
    }

    /** Without engine options. */
    ServiceConfig(Path dataDirectory, Map<String, Path> models, String backend, Integer threads) {
        this(dataDirectory, models, backend, threads, Map.of());
    }

    /** A builder with this configuration; the providers are found with {@code ServiceLoader}. */
    BatchService.Builder toBuilder() {
        BatchService.Builder b = BatchService.builder().dataDirectory(dataDirectory).backendName(backend);
        models.forEach(b::model);
        engineOptions.forEach(b::backendOption);
        if (threads != null) {
            b.threads(threads);
        }
        return b;
    }
}
