package io.batchllm.store;

import io.batchllm.spi.TokenUsage;

/**
 * The stored outcome of one request line.
 *
 * @param statusCode the HTTP status of the response, or 0 when there was no response
 * @param body the response body (JSON text), or null when there was no response
 * @param errorCode for no response: {@code batch_expired}, {@code batch_cancelled}, {@code request_timeout}
 * @param errorMessage for no response: why
 * @param usage tokens consumed
 */
public record StoredResult(int statusCode, String body, String errorCode, String errorMessage, TokenUsage usage) {

    /** A line that got an HTTP response (success or error). */
    public static StoredResult response(int statusCode, String body, TokenUsage usage) {
        return new StoredResult(statusCode, body, null, null, usage);
    }

    /** A line that got no response. */
    public static StoredResult noResponse(String code, String message) {
        return new StoredResult(0, null, code, message, TokenUsage.ZERO);
    }

    /** True if the line belongs in the output file rather than the error file. */
    public boolean succeeded() {
        return statusCode >= 200 && statusCode < 300;
    }
}
