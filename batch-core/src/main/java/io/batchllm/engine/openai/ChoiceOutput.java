package io.batchllm.engine.openai;

import io.batchllm.engine.chat.ChatMessage;
import java.util.List;
import java.util.Objects;

/**
 * What the engine generated for one choice, the input of {@link ResponseBuilder}.
 *
 * @param text the generated text, stop string already removed; with tool calls, the text before them
 * @param finishReason why generation ended
 * @param completionTokens tokens generated for this choice (including any that formed a stop string)
 * @param logprobs one entry per generated token, or null when the request did not ask for logprobs
 * @param toolCalls the tools the model called (chat), parsed out of its output; empty for none
 */
public record ChoiceOutput(String text, FinishReason finishReason, int completionTokens, List<LogprobEntry> logprobs,
                           List<ChatMessage.ToolCall> toolCalls) {
    public ChoiceOutput {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        if (completionTokens < 0) {
            throw new IllegalArgumentException("completionTokens must be >= 0, got " + completionTokens);
        }
        logprobs = logprobs == null ? null : List.copyOf(logprobs);
        toolCalls = List.copyOf(toolCalls);
        if (toolCalls.isEmpty() == (finishReason == FinishReason.TOOL_CALLS)) {
            throw new IllegalArgumentException("finish reason tool_calls goes with tool calls, and only with them");
        }
    }

    /** A choice that called no tools. */
    public ChoiceOutput(String text, FinishReason finishReason, int completionTokens, List<LogprobEntry> logprobs) {
        this(text, finishReason, completionTokens, logprobs, List.of());
    }
}
