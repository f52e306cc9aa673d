package io.batchllm.http.auth;

import java.util.Arrays;
import java.util.Objects;

/**
 * An API key as the store holds it: its public facts and the SHA-256 hash of its secret.
 *
 * @param info the key's id, tenant, role and dates
 * @param secretHash the hash {@link ApiKey#secretHash()} of the secret; the secret itself is never stored
 */
public record StoredApiKey(ApiKeyInfo info, byte[] secretHash) {
    public StoredApiKey {
        Objects.requireNonNull(info, "info");
        secretHash = secretHash.clone();
    }

    @Override
    public byte[] secretHash() {
        return secretHash.clone();
    }

    /** Shows the key's info only; the hash stays out of logs. */
    @Override
    public String toString() {
        return "StoredApiKey[" + info + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredApiKey other && info.equals(other.info)
                && Arrays.equals(secretHash, other.secretHash);
    }

    @Override
    public int hashCode() {
        return info.hashCode();
    }
}
