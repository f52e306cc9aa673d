package io.batchllm;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** The answer to a delete: {@code {id, object:"file", deleted:true}} (F10). */
@JsonPropertyOrder({"id", "object", "deleted"})
public record FileDeleted(@JsonProperty("id") String id, @JsonProperty("deleted") boolean deleted) {
    @JsonProperty("object")
    public String object() {
        return "file";
    }
}
