package io.batchllm.cli;

/**
 * Bad usage or input that the user can fix: reported as one line on stderr, exit code
 * {@value ExitCodes#USAGE}. The message says what is wrong and how to fix it.
 */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }

    UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
