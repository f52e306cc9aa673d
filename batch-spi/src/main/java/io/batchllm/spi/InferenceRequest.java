package io.batchllm.spi;

import java.util.Objects;

/**
 * One request line handed to a backend.
 *
 * @param requestId an opaque id, unique among the requests a backend has in flight; use it in logs
 * @param url the endpoint path of the line, such as {@code /v1/chat/completions}
 * @param model the {@code model} field of the body
 * @param body the request body exactly as the line carried it: a JSON object, as text (the SPI
 *     depends on the JDK only, so it does not parse JSON for you)
 */
public record InferenceRequest(String requestId, String url, String model, String body) {
    public InferenceRequest {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(body, "body");
    }
}
