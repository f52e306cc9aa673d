package io.batchllm.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;

/** Builds request bodies and batch lines for the engine tests, and reads responses. */
final class Bodies {
    static final ObjectMapper JSON = new ObjectMapper();

    private Bodies() {
    }

    /** A {@code /v1/completions} body for {@code model} with the given prompt (text) and max_tokens. */
    static ObjectNode completion(String model, String prompt, int maxTokens) {
        return JSON.createObjectNode().put("model", model).put("prompt", prompt).put("max_tokens", maxTokens);
    }

    /** A greedy completion body, as the reference ran (temperature 0). */
    static ObjectNode greedy(String model, String prompt, int maxTokens) {
        return completion(model, prompt, maxTokens).put("temperature", 0);
    }

    /** A {@code /v1/chat/completions} body with one user message. */
    static ObjectNode chat(String model, String userMessage) {
        ObjectNode body = JSON.createObjectNode().put("model", model);
        body.putArray("messages").addObject().put("role", "user").put("content", userMessage);
        return body;
    }

    /** A batch input line. */
    static String line(String customId, String url, JsonNode body) {
        ObjectNode line = JSON.createObjectNode().put("custom_id", customId).put("method", "POST").put("url", url);
        line.set("body", body);
        return write(line);
    }

    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
