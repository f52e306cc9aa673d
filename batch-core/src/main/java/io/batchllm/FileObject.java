package io.batchllm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * A stored file, shaped exactly as OpenAI's File object (F4): serialized with Jackson it has every
 * key, with {@code null} where unset, and integer-second timestamps.
 *
 * @param id {@code file-…}
 * @param bytes size in bytes
 * @param createdAt Unix seconds
 * @param filename the name given at upload
 * @param purpose its purpose
 * @param status always {@code processed}: uploads are stored whole before this object exists
 * @param expiresAt Unix seconds, or null if it never expires
 * @param statusDetails always null (deprecated by OpenAI, kept for SDKs)
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"id", "object", "bytes", "created_at", "filename", "purpose", "status", "expires_at", "status_details"})
public record FileObject(
        @JsonProperty("id") String id,
        @JsonProperty("bytes") long bytes,
        @JsonProperty("created_at") long createdAt,
        @JsonProperty("filename") String filename,
        @JsonProperty("purpose") FilePurpose purpose,
        @JsonProperty("status") String status,
        @JsonProperty("expires_at") Long expiresAt,
        @JsonProperty("status_details") String statusDetails) {

    /** Always {@code file}. */
    @JsonProperty("object")
    public String object() {
        return "file";
    }
}
