package io.batchllm.engine.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared chat-template test data (never copied into the repository). */
final class ChatTemplatesTestData {
    private ChatTemplatesTestData() {
    }

    static Path directory() {
        String shared = System.getProperty("batchllm.shared.dir");
        Path root = shared != null ? Path.of(shared) : Path.of("../../shared");
        return root.resolve("chat-templates");
    }

    static String template(String fileName) {
        try {
            return Files.readString(directory().resolve(fileName));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shared chat template " + fileName, e);
        }
    }
}
