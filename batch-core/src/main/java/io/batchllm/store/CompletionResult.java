package io.batchllm.store;

import java.util.List;
import java.util.Set;

/**
 * What {@link JobStore#complete} stored.
 *
 * @param accepted the completions stored (in input order); the others had lost their lease
 * @param batchesToFinalize batches touched that may now be finalized: all lines done, or stopping
 */
public record CompletionResult(List<RequestCompletion> accepted, Set<String> batchesToFinalize) {
}
