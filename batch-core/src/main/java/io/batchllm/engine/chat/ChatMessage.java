package io.batchllm.engine.chat;

import java.util.List;
import java.util.Objects;

/**
 * One message of a chat conversation, as a chat template sees it: a dict with {@code role} and
 * {@code content}, plus {@code name}, {@code tool_call_id} and {@code tool_calls} when they are set
 * (templates test them with {@code is defined} and {@code in message}).
 *
 * @param role {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content the message text (multi-part content is joined before it gets here); null
 *     (Python's None) only for an assistant message that carries tool calls instead
 * @param name the participant's name, or null
 * @param toolCallId for a tool message, the id of the call it answers; otherwise null
 * @param toolCalls the calls an assistant message made, oldest first; empty for none
 */
public record ChatMessage(String role, String content, String name, String toolCallId, List<ToolCall> toolCalls) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (content == null && toolCalls.isEmpty()) {
            throw new IllegalArgumentException("a " + role + " message needs content; only an assistant message with"
                    + " tool calls may have none");
        }
    }

    /** A message with only a role and text. */
    public ChatMessage(String role, String content) {
        this(role, Objects.requireNonNull(content, "content"), null, null, List.of());
    }

    /**
     * One tool call of an assistant message, in OpenAI's shape: the template sees
     * {@code {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}}, the
     * arguments as the object their JSON text encodes (as vLLM passes them), or as the text when it
     * is not a JSON object.
     *
     * @param id the call's id, as the tool message answering it repeats it
     * @param name the function called
     * @param arguments the arguments as the JSON text the model wrote
     */
    public record ToolCall(String id, String name, String arguments) {
        public ToolCall {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(arguments, "arguments");
        }
    }
}
