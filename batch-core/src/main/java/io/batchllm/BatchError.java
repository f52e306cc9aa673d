package io.batchllm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Why a batch failed validation (I2, I3).
 *
 * @param code such as {@code invalid_json_line}, {@code duplicate_custom_id}, {@code url_mismatch},
 *     {@code model_mismatch}, {@code empty_file}, {@code too_many_tasks}, {@code file_too_large}
 * @param message what is wrong and how to fix it
 * @param param the field at fault, or null
 * @param line the 1-based line of the input file, or null for a file-level error
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"code", "message", "param", "line"})
public record BatchError(@JsonProperty("code") String code, @JsonProperty("message") String message,
                         @JsonProperty("param") String param, @JsonProperty("line") Long line) {
}
