package io.batchllm.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An assistant message's {@code tool_calls}, in OpenAI's shape
 * ({@code [{"id", "type": "function", "function": {"name", "arguments"}}]}): the calls a model made
 * earlier in the conversation, which the chat template writes into the prompt. Every field is
 * required and checked; an unknown one is refused by name.
 */
final class ToolCalls {
    private static final Set<String> CALL_FIELDS = Set.of("id", "type", "function");
    private static final Set<String> FUNCTION_FIELDS = Set.of("name", "arguments");

    private ToolCalls() {
    }

    /** The message's tool calls; empty when absent, null or {@code []}. */
    static List<ChatMessage.ToolCall> parse(JsonFields message) {
        JsonNode node = message.get("tool_calls");
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw message.invalidType("tool_calls", "an array of tool calls", node);
        }
        List<ChatMessage.ToolCall> calls = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            calls.add(call(node.get(i), message.param("tool_calls") + "[" + i + "]"));
        }
        return calls;
    }

    private static ChatMessage.ToolCall call(JsonNode node, String param) {
        JsonFields call = object(node, param, "a tool call object like {\"id\": ..., \"type\": \"function\","
                + " \"function\": {\"name\": ..., \"arguments\": ...}}", CALL_FIELDS);
        String id = call.requiredString("id");
        String type = call.requiredString("type");
        if (!type.equals("function")) {
            throw new RequestException(call.param("type"), "invalid_value", call.param("type")
                    + " must be \"function\", got \"" + type + "\"");
        }
        JsonFields function = object(call.required("function", "an object with name and arguments"),
                call.param("function"), "an object with name and arguments", FUNCTION_FIELDS);
        return new ChatMessage.ToolCall(id, function.requiredString("name"), function.requiredString("arguments"));
    }

    private static JsonFields object(JsonNode node, String param, String what, Set<String> known) {
        if (!node.isObject()) {
            throw JsonFields.wrongType(param, what, node);
        }
        for (String field : (Iterable<String>) node::fieldNames) {
            if (!known.contains(field)) {
                throw new RequestException(param + "." + field, "unknown_parameter", "unknown parameter "
                        + param + "." + field + "; a tool call has only " + String.join(", ", known.stream().sorted()
                        .toList()));
            }
        }
        return new JsonFields((ObjectNode) node, param + ".");
    }
}
