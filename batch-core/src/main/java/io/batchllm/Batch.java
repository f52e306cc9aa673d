package io.batchllm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;

/**
 * A batch, shaped exactly as OpenAI's Batch object (B6): serialized with Jackson it has every key,
 * {@code null} where unset, and integer-second timestamps. Each {@code *_at} is set once, when the
 * batch enters that state, and stays.
 *
 * @param id {@code batch_…}
 * @param endpoint the endpoint every line targets, such as {@code /v1/chat/completions}
 * @param errors validation errors of a failed batch, else null
 * @param inputFileId the input file
 * @param completionWindow {@code 24h}
 * @param status the current status
 * @param outputFileId the output file once finished, or null if no line succeeded
 * @param errorFileId the error file once finished, or null if no line failed
 * @param createdAt Unix seconds
 * @param inProgressAt when validation passed
 * @param expiresAt when the completion window ends
 * @param finalizingAt when the last line finished
 * @param completedAt when the batch completed
 * @param failedAt when validation failed
 * @param expiredAt when the batch expired
 * @param cancellingAt when cancel was asked
 * @param cancelledAt when the cancel finished
 * @param requestCounts lines in total, succeeded, failed
 * @param metadata the caller's key/value pairs, or null
 * @param model the model that serves the batch, known once validation has read the file
 * @param usage tokens summed over finished lines
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"id", "object", "endpoint", "errors", "input_file_id", "completion_window", "status",
        "output_file_id", "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at",
        "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "request_counts", "metadata",
        "model", "usage"})
public record Batch(
        @JsonProperty("id") String id,
        @JsonProperty("endpoint") String endpoint,
        @JsonProperty("errors") BatchErrors errors,
        @JsonProperty("input_file_id") String inputFileId,
        @JsonProperty("completion_window") String completionWindow,
        @JsonProperty("status") BatchStatus status,
        @JsonProperty("output_file_id") String outputFileId,
        @JsonProperty("error_file_id") String errorFileId,
        @JsonProperty("created_at") long createdAt,
        @JsonProperty("in_progress_at") Long inProgressAt,
        @JsonProperty("expires_at") Long expiresAt,
        @JsonProperty("finalizing_at") Long finalizingAt,
        @JsonProperty("completed_at") Long completedAt,
        @JsonProperty("failed_at") Long failedAt,
        @JsonProperty("expired_at") Long expiredAt,
        @JsonProperty("cancelling_at") Long cancellingAt,
        @JsonProperty("cancelled_at") Long cancelledAt,
        @JsonProperty("request_counts") RequestCounts requestCounts,
        @JsonProperty("metadata") Map<String, String> metadata,
        @JsonProperty("model") String model,
        @JsonProperty("usage") BatchUsage usage) {

    public Batch {
        metadata = metadata == null ? null : Map.copyOf(metadata);
    }

    /** Always {@code batch}. */
    @JsonProperty("object")
    public String object() {
        return "batch";
    }
}
