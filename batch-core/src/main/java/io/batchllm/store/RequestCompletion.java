package io.batchllm.store;

/**
 * The result of a claimed request, to be stored.
 *
 * @param batchId its batch
 * @param lineNo its line
 * @param leaseToken the claim's fencing token; a completion whose token no longer matches (the lease
 *     expired and someone else took the row) is discarded
 * @param result what happened
 */
public record RequestCompletion(String batchId, int lineNo, long leaseToken, StoredResult result) {
}
