package io.batchllm.http.auth;

/** The request's credentials are missing, malformed, unknown, revoked or expired; answered with 401. */
public class AuthenticationException extends RuntimeException {
    public AuthenticationException(String message) {
        super(message);
    }
}
