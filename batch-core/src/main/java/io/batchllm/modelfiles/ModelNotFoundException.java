package io.batchllm.modelfiles;

import java.nio.file.Path;
import java.util.List;

/**
 * A model reference ({@code ollama:…}, {@code hf:…}, {@code lmstudio:…}) that names no file on this
 * machine, or names it ambiguously. The message says where it looked and what to do.
 */
public final class ModelNotFoundException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient List<Path> searched;

    ModelNotFoundException(String message, List<Path> searched) {
        super(message);
        this.searched = List.copyOf(searched);
    }

    /** The files and directories that were looked at, in order. */
    public List<Path> searched() {
        return searched == null ? List.of() : searched;
    }
}
