package io.batchllm.engine.openai;

import java.util.Arrays;
import java.util.Optional;

/** The OpenAI endpoints whose bodies the local engine serves. */
public enum Endpoint {
    /** {@code /v1/chat/completions}: a conversation in, one assistant message per choice out. */
    CHAT_COMPLETIONS("/v1/chat/completions"),
    /** {@code /v1/completions}: a raw prompt in, a continuation per choice out. */
    COMPLETIONS("/v1/completions");

    private final String path;

    Endpoint(String path) {
        this.path = path;
    }

    /** The URL path, as a batch line's {@code url} names it. */
    public String path() {
        return path;
    }

    /** The endpoint with this URL path, if the engine serves it. */
    public static Optional<Endpoint> fromPath(String path) {
        return Arrays.stream(values()).filter(e -> e.path.equals(path)).findFirst();
    }
}
