package io.batchllm.store;

/**
 * One validated input line, as validation hands it to the store. The body itself stays in the
 * input file: the row points at its bytes.
 *
 * @param lineNo 1-based line number in the input file
 * @param customId the line's {@code custom_id}
 * @param bodyOffset byte offset of the {@code body} object in the input file
 * @param bodyLength its length in bytes
 * @param preFailed the result of a line that failed validation on its own (such as {@code stream:true}),
 *     stored as already finished; null for a line to run
 */
public record RequestRow(int lineNo, String customId, long bodyOffset, int bodyLength, StoredResult preFailed) {
}
