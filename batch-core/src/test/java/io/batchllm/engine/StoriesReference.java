package io.batchllm.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code shared/reference/stories260K-greedy.jsonl}: llama.cpp's greedy 64-token completion
 * of a prompt with stories260K, the expected values of the engine tests.
 */
record StoriesReference(String prompt, int[] promptTokens, String outputText, int[] outputTokens,
                        List<String> outputPieces) {

    static final Path MODEL = SharedData.file("models/stories260K.gguf");
    static final Path FILE = SharedData.file("reference/stories260K-greedy.jsonl");
    /** The completion length llama.cpp was asked for (n_predict). */
    static final int OUTPUT_TOKENS = 64;

    static List<StoriesReference> all() {
        ObjectMapper json = new ObjectMapper();
        List<StoriesReference> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(FILE)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = json.readTree(line);
                List<String> pieces = new ArrayList<>();
                n.get("output_pieces").forEach(p -> pieces.add(p.asText()));
                out.add(new StoriesReference(n.get("prompt").asText(), ints(n.get("prompt_tokens")),
                        n.get("output_text").asText(), ints(n.get("output_tokens")), List.copyOf(pieces)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The first reference: "Once upon a time" → ", there was a little girl named Lily. …". */
    static StoriesReference onceUponATime() {
        return all().get(0);
    }

    /** The text of the first {@code count} output tokens. */
    String firstPieces(int count) {
        return String.join("", outputPieces.subList(0, count));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
