package io.batchllm;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/** The {@code errors} of a failed batch: {@code {object:"list", data:[…]}}. */
@JsonPropertyOrder({"object", "data"})
public record BatchErrors(@JsonProperty("data") List<BatchError> data) {
    public BatchErrors {
        data = List.copyOf(data);
    }

    @JsonProperty("object")
    public String object() {
        return "list";
    }
}
