package io.batchllm.http.auth;

import java.util.Objects;

/**
 * An authenticated caller.
 *
 * @param id a stable id for logs and per-caller rate limits (an API key id, a JWT subject)
 * @param tenant the tenant whose files and batches it sees
 * @param role what it may do
 */
public record Principal(String id, String tenant, Role role) {
    public Principal {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(role, "role");
    }
}
