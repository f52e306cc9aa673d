package io.batchllm.spi;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Runs requests against the models it serves. Created by an {@link InferenceBackendProvider}.
 *
 * <p>The service hands a backend many requests at once, and keeps up to
 * {@link #maxInFlight()} of them outstanding, so that a backend can batch across requests (and across
 * batches of the same model). Results come back per request, in any order, as each finishes.
 *
 * <p>Implementations must be thread safe: {@link #submit} may be called from several threads, and
 * while earlier futures are still pending.
 */
public interface InferenceBackend extends AutoCloseable {

    /** The model names this backend serves; requests for other models are never submitted to it. */
    Set<String> models();

    /**
     * The endpoint paths this backend serves. Batches for other endpoints are refused at creation.
     * Defaults to {@code /v1/chat/completions} and {@code /v1/completions}.
     */
    default Set<String> endpoints() {
        return Set.of("/v1/chat/completions", "/v1/completions");
    }

    /**
     * Starts the given requests and returns immediately.
     *
     * @param requests requests for models in {@link #models()}
     * @return one future per request, in the same order. A future completes with an
     *     {@link InferenceResult} for both success and request-level failure (a 400 for a bad body);
     *     completing it exceptionally means the backend itself failed, and the service records a 500
     *     for that line.
     */
    List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests);

    /**
     * How many requests the service should keep outstanding to saturate this backend.
     * The default, 64, suits a batching engine on one device.
     */
    default int maxInFlight() {
        return 64;
    }

    /**
     * Completion tokens this backend has generated since it started, those of requests still running
     * included: live progress, where results only count once a request finishes. The service
     * publishes it as the metric {@code batchllm.tokens.generated}, and {@code run-batch} shows it.
     * Called from any thread, often: must be cheap. Default -1: the backend does not count.
     */
    default long generatedTokens() {
        return -1;
    }

    /** Releases the backend's resources. Pending futures may be completed exceptionally. */
    @Override
    default void close() {
    }
}
