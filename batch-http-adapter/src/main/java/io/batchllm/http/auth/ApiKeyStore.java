package io.batchllm.http.auth;

import java.util.List;
import java.util.Optional;

/**
 * Where API keys live. The store keeps a hash of each key's secret, never the secret; the full key is
 * returned once, by {@link #create}. Implementations must be thread safe. The default,
 * {@link JdbcApiKeyStore}, shares the job store's database.
 */
public interface ApiKeyStore {

    /**
     * Creates and stores a new key.
     *
     * @param tenant 1 to 256 characters, no white space or control characters
     * @throws IllegalArgumentException when the tenant is not valid; the message says why
     */
    IssuedApiKey create(String tenant, Role role);

    /** The key with this id, revoked or not; empty when there is none. */
    Optional<StoredApiKey> find(String id);

    /** Every key, revoked ones included, oldest first. */
    List<ApiKeyInfo> list();

    /**
     * Revokes a key: from now on it authenticates nothing. Revoking a revoked key changes nothing and
     * keeps its first revocation time.
     *
     * @return the key after revocation, or empty when no key has this id
     */
    Optional<ApiKeyInfo> revoke(String id);
}
