package io.batchllm.http.auth;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How {@link JwtAuthenticator} checks bearer JWTs from an identity provider. Exactly one source of
 * verification keys: a JWKS file, a JWKS URL (fetched and cached), or a shared HMAC secret. Create
 * one with {@link #jwksFile}, {@link #jwksUrl} or {@link #hmacSecret}, then adjust with the
 * {@code with…} methods. Immutable.
 *
 * @param issuer the exact {@code iss} every token must carry
 * @param audience a value the token's {@code aud} must contain
 * @param jwksFile a JSON Web Key Set file with the provider's public keys (RS*, PS*, ES* tokens), or null
 * @param jwksUrl the provider's JWKS URL (RS*, PS*, ES* tokens), or null
 * @param hmacSecret a shared secret for HS256/384/512 tokens, at least 32 bytes in UTF-8, or null
 * @param tenantClaim the claim naming the caller's tenant; default {@value #DEFAULT_TENANT_CLAIM}
 * @param roleClaim the claim holding {@code admin}, {@code member} or {@code reader}; default
 *     {@value #DEFAULT_ROLE_CLAIM}
 * @param clockSkew how far {@code exp} and {@code nbf} may be off from this machine's clock; default
 *     {@link #DEFAULT_CLOCK_SKEW} (60 s), at most 5 minutes
 */
public record JwtSettings(String issuer, String audience, Path jwksFile, URI jwksUrl, String hmacSecret,
                          String tenantClaim, String roleClaim, Duration clockSkew) {
    public static final String DEFAULT_TENANT_CLAIM = "tenant";
    public static final String DEFAULT_ROLE_CLAIM = "role";
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    /** HS256 needs a key at least as long as its hash (RFC 7518 section 3.2). */
    static final int MIN_HMAC_SECRET_BYTES = 32;

    public JwtSettings {
        requireText(issuer, "issuer");
        requireText(audience, "audience");
        requireText(tenantClaim, "tenant claim");
        requireText(roleClaim, "role claim");
        int sources = (jwksFile != null ? 1 : 0) + (jwksUrl != null ? 1 : 0) + (hmacSecret != null ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException("JWT settings need exactly one key source (a JWKS file, a JWKS URL or "
                    + "an HMAC secret), got " + sources);
        }
        if (hmacSecret != null && hmacSecret.getBytes(StandardCharsets.UTF_8).length < MIN_HMAC_SECRET_BYTES) {
            throw new IllegalArgumentException("the JWT HMAC secret must be at least " + MIN_HMAC_SECRET_BYTES
                    + " bytes long (256 bits), was " + hmacSecret.getBytes(StandardCharsets.UTF_8).length);
        }
        if (jwksUrl != null && !"https".equals(jwksUrl.getScheme()) && !"http".equals(jwksUrl.getScheme())) {
            throw new IllegalArgumentException("the JWKS URL must be http(s), was " + jwksUrl);
        }
        if (clockSkew == null || clockSkew.isNegative() || clockSkew.compareTo(MAX_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException("the JWT clock skew must be between 0 and " + MAX_CLOCK_SKEW.toMinutes()
                    + " minutes, was " + clockSkew);
        }
    }

    /** Tokens signed with the keys in a JWKS file, read once when the authenticator is created. */
    public static JwtSettings jwksFile(String issuer, String audience, Path file) {
        return new JwtSettings(issuer, audience, file, null, null, DEFAULT_TENANT_CLAIM, DEFAULT_ROLE_CLAIM,
                DEFAULT_CLOCK_SKEW);
    }

    /** Tokens signed with the keys published at a JWKS URL (cached; fetched again for an unknown key id). */
    public static JwtSettings jwksUrl(String issuer, String audience, URI url) {
        return new JwtSettings(issuer, audience, null, url, null, DEFAULT_TENANT_CLAIM, DEFAULT_ROLE_CLAIM,
                DEFAULT_CLOCK_SKEW);
    }

    /** Tokens signed with HS256, HS384 or HS512 and this shared secret. */
    public static JwtSettings hmacSecret(String issuer, String audience, String secret) {
        return new JwtSettings(issuer, audience, null, null, secret, DEFAULT_TENANT_CLAIM, DEFAULT_ROLE_CLAIM,
                DEFAULT_CLOCK_SKEW);
    }

    /** The same settings reading tenant and role from these claims. */
    public JwtSettings withClaims(String tenantClaim, String roleClaim) {
        return new JwtSettings(issuer, audience, jwksFile, jwksUrl, hmacSecret, tenantClaim, roleClaim, clockSkew);
    }

    /** The same settings with another clock skew allowance. */
    public JwtSettings withClockSkew(Duration clockSkew) {
        return new JwtSettings(issuer, audience, jwksFile, jwksUrl, hmacSecret, tenantClaim, roleClaim, clockSkew);
    }

    /** Everything but the HMAC secret. */
    @Override
    public String toString() {
        return "JwtSettings[issuer=" + issuer + ", audience=" + audience + ", jwksFile=" + jwksFile + ", jwksUrl="
                + jwksUrl + ", hmacSecret=" + (hmacSecret == null ? "null" : "***") + ", tenantClaim=" + tenantClaim
                + ", roleClaim=" + roleClaim + ", clockSkew=" + clockSkew + "]";
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the JWT " + name + " must be set");
        }
    }
}
