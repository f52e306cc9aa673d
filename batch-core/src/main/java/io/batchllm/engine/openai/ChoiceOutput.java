package io.batchllm.engine.openai;

import java.util.List;
import java.util.Objects;

/**
 * What the engine generated for one choice, the input of {@link ResponseBuilder}.
 *
 * @param text the generated text, stop string already removed
 * @param finishReason why generation ended
 * @param completionTokens tokens generated for this choice (including any that formed a stop string)
 * @param logprobs one entry per generated token, or null when the request did not ask for logprobs
 */
public record ChoiceOutput(String text, FinishReason finishReason, int completionTokens, List<LogprobEntry> logprobs) {
    public ChoiceOutput {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        if (completionTokens < 0) {
            throw new IllegalArgumentException("completionTokens must be >= 0, got " + completionTokens);
        }
        logprobs = logprobs == null ? null : List.copyOf(logprobs);
    }
}
