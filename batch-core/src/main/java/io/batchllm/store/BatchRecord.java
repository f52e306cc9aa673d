package io.batchllm.store;

import io.batchllm.Batch;

/**
 * A stored batch: its public view plus what only the service needs.
 *
 * @param batch the Batch object
 * @param stopReason set when an {@code in_progress} batch must stop (expiry), else null
 * @param outputExpiresAfterSeconds lifetime of its result files, or null for the default
 * @param owner the caller that created it
 */
public record BatchRecord(Batch batch, StopReason stopReason, Long outputExpiresAfterSeconds, String owner) {
    public String id() {
        return batch.id();
    }
}
