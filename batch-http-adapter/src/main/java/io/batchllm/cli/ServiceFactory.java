package io.batchllm.cli;

import io.batchllm.BatchService;

/** Starts the service {@code run-batch} uses; tests substitute one with a test backend. */
@FunctionalInterface
interface ServiceFactory {
    /** The real service: {@link ServiceConfig#toBuilder()}, built. */
    ServiceFactory DEFAULT = config -> config.toBuilder().build();

    BatchService start(ServiceConfig config);
}
