package io.batchllm.cli;

/** The launcher's exit codes, as {@code --help} lists them. */
final class ExitCodes {
    /** The batch completed (some lines may still have failed: see the error file). */
    static final int COMPLETED = 0;
    /** The batch failed validation, expired or was cancelled. */
    static final int BATCH_NOT_COMPLETED = 1;
    /** Bad usage or input: an unknown option, a missing file, a model that does not load. */
    static final int USAGE = 2;
    /** A bug or an unexpected environment problem. */
    static final int INTERNAL_ERROR = 3;
    /** Interrupted by Ctrl-C (128 + SIGINT), after cancelling the batch. SIGTERM gives 143 (128 + 15). */
    static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}
