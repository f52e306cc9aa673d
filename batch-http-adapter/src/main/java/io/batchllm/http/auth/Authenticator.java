package io.batchllm.http.auth;

/**
 * Turns a request's {@code Authorization} header into a {@link Principal}. Implementations: API keys
 * stored as hashes, JWTs from an identity provider, and "none" for local use. Thread safe.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * @param authorizationHeader the raw header value (such as {@code Bearer sk-…}), or null if absent
     * @throws AuthenticationException when the request must be refused with 401; the message says why
     *     without revealing whether a key exists
     */
    Principal authenticate(String authorizationHeader);

    /** Every request is an admin of tenant {@code default}: for local use only. */
    static Authenticator none() {
        return header -> new Principal("anonymous", "default", Role.ADMIN);
    }
}
