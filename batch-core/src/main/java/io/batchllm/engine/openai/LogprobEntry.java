package io.batchllm.engine.openai;

import java.util.List;
import java.util.Objects;

/**
 * The logprobs of one generated position.
 *
 * @param chosen the token that was generated
 * @param alternatives the most likely tokens at this position, most likely first (as many as the
 *     request's {@code top_logprobs} / completions {@code logprobs})
 */
public record LogprobEntry(LogprobToken chosen, List<LogprobToken> alternatives) {
    public LogprobEntry {
        Objects.requireNonNull(chosen, "chosen");
        alternatives = List.copyOf(alternatives);
    }
}
