package io.batchllm.http.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.net.MalformedURLException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates {@code Authorization: Bearer <JWT>} tokens from a team's identity provider, with
 * nimbus-jose-jwt. A token is accepted when its signature verifies with a key of the configured
 * source ({@link JwtSettings}), its {@code iss} equals the issuer, its {@code aud} contains the
 * audience, it has not expired ({@code exp} is required) and is already valid ({@code nbf}), both
 * within the clock skew, and it has a {@code sub}, a tenant claim and a role claim naming a
 * {@link Role}. The principal is {@code (sub, tenant claim, role claim)}.
 *
 * <p>Algorithms are fixed by the key source, never taken from the token alone: HS256/384/512 for a
 * shared secret (of 32 bytes or more for all three, whatever {@code kid} the token names:
 * {@link SharedSecretVerifier}); RS, PS and ES 256/384/512 for a JWKS. So a token cannot pass off the
 * public key as an HMAC secret, and {@code alg: none} is refused. Token types {@code JWT},
 * {@code at+jwt} (RFC 9068 access tokens) and none are accepted.
 *
 * <p>Every refusal is the same {@link AuthenticationException} message; the reason (expired, wrong
 * audience, …) is logged at debug level without the token. When the JWKS URL cannot be fetched, the
 * fault is the server's, not the caller's: {@link IllegalStateException}, not a 401. Thread safe.
 */
public final class JwtAuthenticator implements Authenticator {
    private static final Logger log = LoggerFactory.getLogger(JwtAuthenticator.class);
    static final String MESSAGE = "Invalid or expired bearer token: the JWT was refused.";
    private static final Set<JWSAlgorithm> PUBLIC_KEY = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    private final JwtSettings settings;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    /**
     * Reads the JWKS file now (a JWKS URL is fetched on first use).
     *
     * @param clock the time that {@code exp} and {@code nbf} are checked against
     * @throws IllegalArgumentException when the JWKS file cannot be read or parsed; the message names it
     */
    public JwtAuthenticator(JwtSettings settings, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        if (settings.hmacSecret() != null) {
            SharedSecretVerifier secret = new SharedSecretVerifier(settings.hmacSecret().getBytes(StandardCharsets.UTF_8));
            processor.setJWSKeySelector(secret);
            processor.setJWSVerifierFactory(secret);
        } else {
            processor.setJWSKeySelector(new JWSVerificationKeySelector<>(PUBLIC_KEY, keySource(settings)));
        }
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
                JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                Set.of(settings.audience()),
                new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
                Set.of("sub", "exp", settings.tenantClaim(), settings.roleClaim()),
                null) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
        processor.setJWTClaimsSetVerifier(claims);
    }

    /** An authenticator on the system clock. */
    public JwtAuthenticator(JwtSettings settings) {
        this(settings, Clock.systemUTC());
    }

    @Override
    public Principal authenticate(String authorizationHeader) {
        String token = BearerToken.of(authorizationHeader).orElseThrow(() -> refused("no bearer token"));
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (KeySourceException e) {
            throw new IllegalStateException("cannot get the keys to verify JWTs from " + keySourceName() + ": "
                    + e.getMessage(), e);
        } catch (ParseException | BadJOSEException | JOSEException e) {
            throw refused(e.getMessage());
        }
        String tenant = stringClaim(claims, settings.tenantClaim());
        String tenantProblem = Tenants.problem(tenant);
        if (tenantProblem != null) {
            throw refused("claim " + settings.tenantClaim() + ": " + tenantProblem);
        }
        String roleName = stringClaim(claims, settings.roleClaim());
        Role role = Roles.parse(roleName).orElseThrow(() -> refused("claim " + settings.roleClaim()
                + " is not admin, member or reader"));
        return new Principal(claims.getSubject(), tenant, role);
    }

    private static String stringClaim(JWTClaimsSet claims, String name) {
        try {
            return claims.getStringClaim(name);
        } catch (ParseException e) {
            throw refused("claim " + name + " is not a string");
        }
    }

    private static AuthenticationException refused(String reason) {
        log.debug("JWT refused: {}", reason);
        return new AuthenticationException(MESSAGE);
    }

    private String keySourceName() {
        return settings.jwksUrl() != null ? settings.jwksUrl().toString()
                : settings.jwksFile() != null ? settings.jwksFile().toString() : "the HMAC secret";
    }

    /** The public keys of a JWKS file or URL. */
    private static JWKSource<SecurityContext> keySource(JwtSettings s) {
        if (s.jwksFile() != null) {
            try {
                // Only the public halves: a JWKS with private keys here would be a mistake, not a need.
                return new ImmutableJWKSet<>(JWKSet.load(s.jwksFile().toFile()).toPublicJWKSet());
            } catch (IOException | ParseException e) {
                throw new IllegalArgumentException("cannot read the JWKS file " + s.jwksFile() + ": " + e.getMessage()
                        + " (it must be a JSON Web Key Set: {\"keys\":[…]})", e);
            }
        }
        try {
            // Cached, refreshed ahead of expiry, fetched again (rate limited) when a token names an unknown key.
            return JWKSourceBuilder.<SecurityContext>create(s.jwksUrl().toURL()).retrying(true).build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("the JWKS URL " + s.jwksUrl() + " is not a valid URL", e);
        }
    }
}
