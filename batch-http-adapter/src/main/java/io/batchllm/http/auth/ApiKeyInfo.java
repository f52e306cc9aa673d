package io.batchllm.http.auth;

import java.time.Instant;
import java.util.Objects;

/**
 * What may be shown about an API key: never its secret or the secret's hash.
 *
 * @param id the key's id (the part of the key after {@code sk-batchllm-} and before the secret)
 * @param tenant the tenant the key acts for
 * @param role what the key may do
 * @param createdAt when the key was created, to the second
 * @param revokedAt when the key was revoked, or null while it is active
 */
public record ApiKeyInfo(String id, String tenant, Role role, Instant createdAt, Instant revokedAt) {
    public ApiKeyInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    public boolean revoked() {
        return revokedAt != null;
    }

    /** The caller this key authenticates. */
    public Principal principal() {
        return new Principal(id, tenant, role);
    }
}
