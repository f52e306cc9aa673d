package io.batchllm.spi;

import java.util.Objects;

/**
 * The outcome of one request, shaped as the HTTP response OpenAI would have sent for it.
 *
 * <p>A status of 200 means success: {@code body} is the endpoint's response object (for example a
 * {@code chat.completion}) and the line goes to the batch's output file. Any other status is a failed
 * request: {@code body} is an error envelope {@code {"error":{"message","type","param","code"}}} and the
 * line goes to the error file. Build errors with {@link #error}.
 *
 * @param statusCode the HTTP status the request would have had
 * @param body the JSON response body, as text
 * @param usage the tokens the request consumed ({@link TokenUsage#ZERO} if none)
 */
public record InferenceResult(int statusCode, String body, TokenUsage usage) {

    public InferenceResult {
        if (statusCode < 100 || statusCode > 599) {
            throw new IllegalArgumentException("statusCode must be an HTTP status (100-599), was " + statusCode);
        }
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(usage, "usage");
    }

    /** A successful result with the given response body. */
    public static InferenceResult ok(String body, TokenUsage usage) {
        return new InferenceResult(200, body, usage);
    }

    /**
     * A failed result with an OpenAI error envelope as its body.
     *
     * @param statusCode 4xx or 5xx
     * @param type the error type, such as {@code invalid_request_error}
     * @param code a machine-readable code, or null
     * @param param the request field at fault, or null
     * @param message what went wrong and how to fix it
     */
    public static InferenceResult error(int statusCode, String type, String code, String param, String message) {
        if (statusCode < 400) {
            throw new IllegalArgumentException("an error result needs a 4xx or 5xx status, was " + statusCode);
        }
        String body = "{\"error\":{\"message\":" + Json.quote(message)
                + ",\"type\":" + Json.quote(type)
                + ",\"param\":" + Json.quote(param)
                + ",\"code\":" + Json.quote(code) + "}}";
        return new InferenceResult(statusCode, body, TokenUsage.ZERO);
    }

    /** A 400 {@code invalid_request_error}: the request itself is wrong and retrying will not help. */
    public static InferenceResult invalidRequest(String param, String code, String message) {
        return error(400, "invalid_request_error", code, param, message);
    }

    /** True for a 2xx status. */
    public boolean succeeded() {
        return statusCode >= 200 && statusCode < 300;
    }
}
