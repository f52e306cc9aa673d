package io.batchllm.spi;

/**
 * Told of every finished request as it finishes, and of every batch reaching a terminal state.
 * Use it to stream results into your own system instead of waiting for the output file.
 *
 * <h2>Delivery guarantees</h2>
 * <ul>
 *   <li><b>At least once.</b> Events are recorded in the job store (a durable outbox) in the same
 *       transaction as the result itself, and delivered after commit. After a crash, events not yet
 *       acknowledged are delivered again, so a handler may see the same request twice.
 *       {@code (batchId, customId)} is the idempotency key: make {@link #onRequestFinished} an upsert
 *       on it. {@link #onBatchFinished} is keyed by {@code batchId}.</li>
 *   <li><b>Isolated.</b> Handlers run on their own threads, never on the inference path. A handler that
 *       throws is retried with backoff; once its retries are spent the event is recorded as failed
 *       for that handler (metric {@code batchllm.handler.failures}) and delivery moves on. A failing or
 *       slow handler never fails a batch and never blocks inference.</li>
 *   <li><b>Ordered by {@link #order()}</b> for each event: lower first. No order is promised between
 *       events of different requests.</li>
 * </ul>
 *
 * <p>Implementations must be thread safe. Discovered through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.batchllm.spi.ResultHandler}, with a public no-argument constructor)
 * unless handlers are registered explicitly on the service builder.
 */
public interface ResultHandler {

    /** A short, stable name, used in logs, metrics ({@code handler} tag) and failure records. */
    String name();

    /** Handlers with a lower order are called first. Defaults to 0. */
    default int order() {
        return 0;
    }

    /** Called once (at least) for each request that finished, succeeded or not. */
    void onRequestFinished(RequestOutcome outcome);

    /** Called once (at least) when a batch reaches completed, failed, expired or cancelled. */
    default void onBatchFinished(BatchOutcome outcome) {
    }
}
