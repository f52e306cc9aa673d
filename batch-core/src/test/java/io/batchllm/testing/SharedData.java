package io.batchllm.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the read-only test data in {@code ../shared} (models, tokenizer vectors, references). */
public final class SharedData {
    private SharedData() {
    }

    /** The shared directory: system property {@code batchllm.shared.dir}, else {@code ../shared} from the repo root. */
    public static Path dir() {
        String prop = System.getProperty("batchllm.shared.dir");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path p : new Path[] {Path.of("../shared"), Path.of("../../shared")}) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("test data not found: set -Dbatchllm.shared.dir or put shared/ beside the repository");
    }

    /** A file under the shared directory. */
    public static Path file(String relative) {
        return dir().resolve(relative);
    }
}
