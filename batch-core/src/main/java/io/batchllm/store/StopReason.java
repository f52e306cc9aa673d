package io.batchllm.store;

/** Why a batch that is still {@code in_progress} must stop taking new work. */
public enum StopReason {
    /** The completion window passed; the batch ends as {@code expired}. */
    EXPIRE
}
