package io.batchllm.http.auth;

import java.util.Objects;

/**
 * A key just created: the only time its full text exists outside the client that will use it.
 *
 * @param info the stored facts about the key
 * @param key the key to hand to its user ({@link ApiKey#token()} gives its text)
 */
public record IssuedApiKey(ApiKeyInfo info, ApiKey key) {
    public IssuedApiKey {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(key, "key");
    }

    /** The full key text, {@code sk-batchllm-<id>-<secret>}. */
    public String token() {
        return key.token();
    }
}
