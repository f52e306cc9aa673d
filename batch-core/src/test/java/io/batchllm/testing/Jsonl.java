package io.batchllm.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds request lines and reads result files in tests. */
public final class Jsonl {
    public static final ObjectMapper JSON = new ObjectMapper();

    private Jsonl() {
    }

    /** A chat request line for {@code test-model}. */
    public static String chatLine(String customId, String content) {
        return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}}";
    }

    /** A chat request line with extra body fields (JSON fragment such as {@code "test_status":400}). */
    public static String chatLine(String customId, String content, String extraBodyFields) {
        return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],"
                + extraBodyFields + "}}";
    }

    /** {@code n} chat lines {@code req-0 … req-(n-1)}, newline-terminated. */
    public static String chatLines(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(chatLine("req-" + i, "hello " + i)).append('\n');
        }
        return sb.toString();
    }

    /** The lines of a JSONL stream, parsed. */
    public static List<JsonNode> read(InputStream in) {
        try (in) {
            List<JsonNode> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
