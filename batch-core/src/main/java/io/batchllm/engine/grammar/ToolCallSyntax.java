package io.batchllm.engine.grammar;

import java.util.Objects;

/**
 * How a model family writes its tool calls, as far as a grammar needs it: each call is a JSON object
 * {@code {"<nameKey>": "<function>", "<argumentsKey>": <arguments>}} between {@code callOpen} and
 * {@code callClose}; several calls are separated by {@code separator}; all of them sit between
 * {@code listOpen} and {@code listClose}. Hermes and Qwen write
 * {@code <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>} per call, Llama 3.1
 * {@code {"name": ..., "parameters": ...}}, Mistral {@code [{"name": ..., "arguments": ...}, …]}.
 *
 * @param jsonSeparator whether {@code separator} is a JSON comma with optional white space around it
 *     (as in a JSON array) rather than literal text
 */
public record ToolCallSyntax(String listOpen, String callOpen, String nameKey, String argumentsKey, String callClose,
                             String separator, boolean jsonSeparator, String listClose) {
    public ToolCallSyntax {
        Objects.requireNonNull(listOpen, "listOpen");
        Objects.requireNonNull(callOpen, "callOpen");
        Objects.requireNonNull(nameKey, "nameKey");
        Objects.requireNonNull(argumentsKey, "argumentsKey");
        Objects.requireNonNull(callClose, "callClose");
        Objects.requireNonNull(separator, "separator");
        Objects.requireNonNull(listClose, "listClose");
    }
}
