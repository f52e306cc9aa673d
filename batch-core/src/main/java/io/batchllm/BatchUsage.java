package io.batchllm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;

/**
 * Token usage summed over a batch's lines (B16), shaped as OpenAI's batch {@code usage}.
 *
 * @param inputTokens prompt tokens
 * @param outputTokens completion tokens
 * @param cachedTokens prompt tokens served from a cache; written only nested, as
 *     {@code input_tokens_details.cached_tokens} (B6), never as a flat key
 */
@JsonPropertyOrder({"input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"})
public record BatchUsage(@JsonProperty("input_tokens") long inputTokens,
                         @JsonProperty("output_tokens") long outputTokens,
                         @JsonIgnore long cachedTokens) {

    @JsonProperty("input_tokens_details")
    public Map<String, Long> inputTokensDetails() {
        return Map.of("cached_tokens", cachedTokens);
    }

    @JsonProperty("output_tokens_details")
    public Map<String, Long> outputTokensDetails() {
        return Map.of("reasoning_tokens", 0L);
    }

    @JsonProperty("total_tokens")
    public long totalTokens() {
        return inputTokens + outputTokens;
    }
}
