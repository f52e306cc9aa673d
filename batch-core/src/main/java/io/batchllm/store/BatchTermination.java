package io.batchllm.store;

import io.batchllm.BatchStatus;

/**
 * The last transition of a batch that ran: written with its result files in one transaction.
 *
 * @param batchId the batch
 * @param from the status it must still have (the guard)
 * @param to {@code completed}, {@code cancelled} or {@code expired}
 * @param at Unix seconds
 * @param outputFile the output file, or null if no line succeeded
 * @param errorFile the error file, or null if no line failed
 * @param completed lines in the output file
 * @param failed lines in the error file
 * @param unrunErrorCode for lines that never ran: {@code batch_cancelled} or {@code batch_expired}; null
 *     when every line ran
 * @param unrunErrorMessage the message for those lines
 */
public record BatchTermination(String batchId, BatchStatus from, BatchStatus to, long at, FileRecord outputFile,
                               FileRecord errorFile, long completed, long failed, String unrunErrorCode,
                               String unrunErrorMessage) {
}
