package io.batchllm.store;

import io.batchllm.spi.BatchOutcome;
import io.batchllm.spi.RequestOutcome;

/**
 * An event waiting for delivery to result handlers: exactly one of {@code request} and {@code batch}
 * is set.
 *
 * @param id its id in the outbox, for acknowledging it
 * @param request a finished request
 * @param batch a batch that reached a terminal state
 */
public record OutboxEvent(long id, RequestOutcome request, BatchOutcome batch) {
}
