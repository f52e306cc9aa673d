package io.batchllm.cli;

import io.batchllm.BatchService;
import io.batchllm.spi.InferenceBackendProvider;
import java.util.ServiceLoader;

/** Starts the service {@code run-batch} uses; tests substitute one with a test backend. */
@FunctionalInterface
interface ServiceFactory {
    /** The real service: {@link ServiceConfig#toBuilder()}, built, with a hint when the jar has no backend at all. */
    ServiceFactory DEFAULT = config -> {
        try {
            return config.toBuilder().build();
        } catch (IllegalStateException e) {
            if (ServiceLoader.load(InferenceBackendProvider.class).findFirst().isEmpty()) {
                throw new IllegalStateException(e.getMessage() + ". This build contains no inference backend: no "
                        + "implementation of " + InferenceBackendProvider.class.getName() + " is registered in "
                        + "META-INF/services, so no model can run", e);
            }
            throw e;
        }
    };

    BatchService start(ServiceConfig config);
}
