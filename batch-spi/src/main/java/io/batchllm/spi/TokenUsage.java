package io.batchllm.spi;

/**
 * Token counts of one request.
 *
 * @param promptTokens tokens read from the prompt
 * @param completionTokens tokens generated
 * @param cachedPromptTokens prompt tokens served from a cache (a shared prefix), included in
 *     {@code promptTokens}
 */
public record TokenUsage(long promptTokens, long completionTokens, long cachedPromptTokens) {

    /** No tokens. */
    public static final TokenUsage ZERO = new TokenUsage(0, 0, 0);

    public TokenUsage {
        if (promptTokens < 0 || completionTokens < 0 || cachedPromptTokens < 0) {
            throw new IllegalArgumentException("token counts must be >= 0");
        }
    }

    /** Prompt plus completion tokens. */
    public long totalTokens() {
        return promptTokens + completionTokens;
    }

    /** The sum of this and {@code other}. */
    public TokenUsage plus(TokenUsage other) {
        return new TokenUsage(promptTokens + other.promptTokens,
                completionTokens + other.completionTokens,
                cachedPromptTokens + other.cachedPromptTokens);
    }
}
