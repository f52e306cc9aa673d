package io.batchllm;

import com.fasterxml.jackson.annotation.JsonValue;

/** The endpoints a batch may target (B1). Which of them are served depends on the backends. */
public enum Endpoint {
    RESPONSES("/v1/responses"),
    CHAT_COMPLETIONS("/v1/chat/completions"),
    EMBEDDINGS("/v1/embeddings"),
    COMPLETIONS("/v1/completions"),
    MODERATIONS("/v1/moderations"),
    IMAGES_GENERATIONS("/v1/images/generations"),
    IMAGES_EDITS("/v1/images/edits"),
    VIDEOS("/v1/videos");

    private final String path;

    Endpoint(String path) {
        this.path = path;
    }

    /** The URL path, such as {@code /v1/chat/completions}. */
    @JsonValue
    public String path() {
        return path;
    }

    /**
     * The endpoint with this path.
     *
     * @throws InvalidRequestException (param {@code endpoint}) for an unknown path
     */
    public static Endpoint fromPath(String path) {
        for (Endpoint e : values()) {
            if (e.path.equals(path)) {
                return e;
            }
        }
        throw new InvalidRequestException("endpoint", "'" + path + "' is not a supported endpoint. Expected one of: "
                + "/v1/responses, /v1/chat/completions, /v1/embeddings, /v1/completions, /v1/moderations, "
                + "/v1/images/generations, /v1/images/edits, /v1/videos.");
    }
}
