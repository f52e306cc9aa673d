package io.batchllm.spi;

import java.util.Objects;

/**
 * A finished request, as told to {@link ResultHandler#onRequestFinished}.
 *
 * @param batchId the batch
 * @param customId the line's {@code custom_id}; with {@code batchId}, the idempotency key
 * @param statusCode the HTTP status of the response, or 0 when the request got no response (it
 *     expired or its batch was cancelled: see {@code errorCode})
 * @param responseBody the JSON response body (success or error envelope), or null when there was none
 * @param errorCode for a request with no response: {@code batch_expired}, {@code batch_cancelled} or
 *     {@code request_timeout}; otherwise null
 * @param usage the tokens the request consumed
 */
public record RequestOutcome(String batchId, String customId, int statusCode, String responseBody,
                             String errorCode, TokenUsage usage) {
    public RequestOutcome {
        Objects.requireNonNull(batchId, "batchId");
        Objects.requireNonNull(customId, "customId");
        Objects.requireNonNull(usage, "usage");
    }

    /** True if the request succeeded (its line is in the output file). */
    public boolean succeeded() {
        return statusCode >= 200 && statusCode < 300;
    }
}
