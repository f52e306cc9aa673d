package io.batchllm.engine.gguf;

/**
 * A model file BatchLLM cannot use: not GGUF, truncated, an unsupported architecture or tensor type,
 * a missing tensor or key. The message names the file and what is wrong, so that the user can fix it.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
