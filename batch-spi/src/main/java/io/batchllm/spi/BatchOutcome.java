package io.batchllm.spi;

import java.util.Objects;

/**
 * A batch that reached a terminal state, as told to {@link ResultHandler#onBatchFinished}.
 *
 * @param batchId the batch
 * @param status {@code completed}, {@code failed}, {@code expired} or {@code cancelled}
 * @param outputFileId the output file, or null if no line succeeded
 * @param errorFileId the error file, or null if no line failed
 * @param total lines in the batch
 * @param completed lines that succeeded
 * @param failed lines that failed (including unrun lines of an expired or cancelled batch)
 */
public record BatchOutcome(String batchId, String status, String outputFileId, String errorFileId,
                           long total, long completed, long failed) {
    public BatchOutcome {
        Objects.requireNonNull(batchId, "batchId");
        Objects.requireNonNull(status, "status");
    }
}
