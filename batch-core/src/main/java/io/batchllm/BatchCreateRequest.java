package io.batchllm;

import java.util.Map;
import java.util.Objects;

/**
 * Everything a batch creation can say (B1–B3). Build with {@link #of(String, Endpoint)}, then the
 * {@code with…} methods.
 *
 * @param inputFileId a file of purpose {@code batch}
 * @param endpoint the endpoint every line must target
 * @param completionWindow only {@code 24h}
 * @param metadata up to 16 pairs, keys up to 64 characters, values up to 512; or null
 * @param outputExpiresAfterSeconds how long output and error files live after they are written
 *     (3600 to 2592000), or null for the default: they never expire, like every file whose purpose is
 *     not {@code batch} (F5)
 * @param callerKey who is asking, for rate limits and as the batch's owner, at most
 *     {@value FileUpload#MAX_CALLER_KEY_LENGTH} characters; {@value BatchService#DEFAULT_CALLER} if null
 */
public record BatchCreateRequest(String inputFileId, Endpoint endpoint, String completionWindow,
                                 Map<String, String> metadata, Long outputExpiresAfterSeconds, String callerKey) {
    /** The only completion window OpenAI offers. */
    public static final String COMPLETION_WINDOW_24H = "24h";

    public BatchCreateRequest {
        if (inputFileId == null || inputFileId.isBlank()) {
            throw new InvalidRequestException("input_file_id", "input_file_id is required");
        }
        Objects.requireNonNull(endpoint, "endpoint");
        FileUpload.checkCallerKey(callerKey);
        if (completionWindow == null) {
            completionWindow = COMPLETION_WINDOW_24H;
        }
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new InvalidRequestException("metadata", "metadata keys and values must be strings; the "
                            + "entry for key '" + e.getKey() + "' has no value");
                }
            }
            metadata = Map.copyOf(metadata);
        }
    }

    public static BatchCreateRequest of(String inputFileId, Endpoint endpoint) {
        return new BatchCreateRequest(inputFileId, endpoint, COMPLETION_WINDOW_24H, null, null, null);
    }

    public BatchCreateRequest withMetadata(Map<String, String> m) {
        return new BatchCreateRequest(inputFileId, endpoint, completionWindow, m, outputExpiresAfterSeconds, callerKey);
    }

    public BatchCreateRequest withCompletionWindow(String w) {
        return new BatchCreateRequest(inputFileId, endpoint, w, metadata, outputExpiresAfterSeconds, callerKey);
    }

    public BatchCreateRequest withOutputExpiresAfterSeconds(Long s) {
        return new BatchCreateRequest(inputFileId, endpoint, completionWindow, metadata, s, callerKey);
    }

    public BatchCreateRequest withCallerKey(String key) {
        return new BatchCreateRequest(inputFileId, endpoint, completionWindow, metadata, outputExpiresAfterSeconds, key);
    }
}
