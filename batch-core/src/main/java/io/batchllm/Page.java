package io.batchllm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * One page of a list, as OpenAI returns it: {@code {object:"list", data, first_id, last_id, has_more}}.
 * To get the next page, pass {@link #lastId()} as {@code after}; the page after the last one is empty
 * (never an error), which is where older SDKs stop (F7).
 *
 * @param data the items
 * @param firstId id of the first item; an empty string on an empty page (the Java SDK types it as a
 *     non-null string)
 * @param lastId id of the last item; an empty string on an empty page
 * @param hasMore whether another page follows
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"object", "data", "first_id", "last_id", "has_more"})
public record Page<T>(
        @JsonProperty("data") List<T> data,
        @JsonProperty("first_id") String firstId,
        @JsonProperty("last_id") String lastId,
        @JsonProperty("has_more") boolean hasMore) {

    public Page {
        data = List.copyOf(data);
    }

    @JsonProperty("object")
    public String object() {
        return "list";
    }
}
