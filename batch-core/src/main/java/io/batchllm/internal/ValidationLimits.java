package io.batchllm.internal;

/**
 * Limits on batch input files.
 *
 * @param maxRequests lines per batch
 * @param maxFileBytes size of an input file
 * @param maxLineBytes size of one line
 */
public record ValidationLimits(int maxRequests, long maxFileBytes, int maxLineBytes) {
}
