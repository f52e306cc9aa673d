package io.batchllm.store;

/**
 * One line of a batch as finalization reads it.
 *
 * @param lineNo the line
 * @param customId its {@code custom_id}
 * @param result its result, or null if it never ran
 */
public record FinishedLine(int lineNo, String customId, StoredResult result) {
}
