package io.batchllm.spi;

/**
 * Creates {@link InferenceBackend}s. Listed in
 * {@code META-INF/services/io.batchllm.spi.InferenceBackendProvider} to be discovered.
 *
 * <p>When several available providers fit, the service picks the one with the highest
 * {@link #priority()} and logs its choice once; an unavailable provider is skipped with one log line
 * giving its {@link Availability#reason()}.
 */
public interface InferenceBackendProvider {

    /** A short, stable name such as {@code cpu} or {@code cuda}; users select backends by it. */
    String name();

    /** Higher wins when several providers are available. Defaults to 0. */
    default int priority() {
        return 0;
    }

    /** Whether this provider can create a backend here. Must be cheap and must not throw. */
    Availability availability();

    /** Creates a backend; called only when {@link #availability()} says it is available. */
    InferenceBackend create(BackendConfig config);
}
