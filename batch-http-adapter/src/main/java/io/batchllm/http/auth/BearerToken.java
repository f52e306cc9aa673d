package io.batchllm.http.auth;

import java.util.Optional;

/** Reads the token out of an {@code Authorization: Bearer <token>} header value (RFC 6750). */
final class BearerToken {
    private static final String SCHEME = "Bearer";

    private BearerToken() {
    }

    /** The token, or empty when the header is absent, uses another scheme or has no token. */
    static Optional<String> of(String authorizationHeader) {
        if (authorizationHeader == null) {
            return Optional.empty();
        }
        String h = authorizationHeader.strip();
        // The scheme name is case-insensitive (RFC 9110 section 11.1); one or more spaces follow it.
        if (h.length() <= SCHEME.length() || !h.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || h.charAt(SCHEME.length()) != ' ') {
            return Optional.empty();
        }
        String token = h.substring(SCHEME.length()).strip();
        return token.isEmpty() || token.contains(" ") ? Optional.empty() : Optional.of(token);
    }
}
