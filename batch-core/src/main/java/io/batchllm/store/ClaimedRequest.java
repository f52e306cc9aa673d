package io.batchllm.store;

/**
 * A request row leased to one worker.
 *
 * @param batchId its batch
 * @param lineNo its line
 * @param customId its {@code custom_id}
 * @param model the batch's model
 * @param endpoint the batch's endpoint
 * @param inputFileId where its body is
 * @param bodyOffset byte offset of the body in the input file
 * @param bodyLength body length in bytes
 * @param leaseToken the fencing token every later write of this claim must present
 */
public record ClaimedRequest(String batchId, int lineNo, String customId, String model, String endpoint,
                             String inputFileId, long bodyOffset, int bodyLength, long leaseToken) {
}
