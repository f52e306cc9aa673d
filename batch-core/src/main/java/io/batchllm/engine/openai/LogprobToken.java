package io.batchllm.engine.openai;

import java.util.Arrays;
import java.util.Objects;

/**
 * A token as a logprobs report shows it.
 *
 * @param text the token's text; a byte-level token that is only part of a UTF-8 character may
 *     decode to a replacement character here, which is why {@code bytes} exist
 * @param bytes the token's exact bytes (copied in and out)
 * @param logprob its natural-log probability; values below {@value ResponseBuilder#MIN_LOGPROB}
 *     (or -Infinity) are written as {@value ResponseBuilder#MIN_LOGPROB}, as OpenAI does
 */
public record LogprobToken(String text, byte[] bytes, float logprob) {

    public LogprobToken {
        Objects.requireNonNull(text, "text");
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogprobToken other && text.equals(other.text) && Arrays.equals(bytes, other.bytes)
                && Float.compare(logprob, other.logprob) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, Arrays.hashCode(bytes), logprob);
    }

    @Override
    public String toString() {
        return "LogprobToken[" + text + ", " + Arrays.toString(bytes) + ", " + logprob + "]";
    }
}
