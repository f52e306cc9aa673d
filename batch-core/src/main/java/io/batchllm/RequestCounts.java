package io.batchllm;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** How many lines a batch has, and how many finished each way. At a terminal state completed + failed = total. */
@JsonPropertyOrder({"total", "completed", "failed"})
public record RequestCounts(@JsonProperty("total") long total, @JsonProperty("completed") long completed,
                            @JsonProperty("failed") long failed) {
}
