package io.batchllm.http.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.batchllm.testing.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtAuthenticatorTest {
    private static final String ISSUER = "https://idp.example.com/";
    private static final String AUDIENCE = "batchllm";
    private static final String SECRET = "0123456789abcdef0123456789abcdef-shared";
    private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

    private static RSAKey rsa;
    private static RSAKey otherRsa;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(NOW);

    @BeforeAll
    static void keys() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("k1").generate();
        // The same key id, another key: what a forger without the provider's private key would make.
        otherRsa = new RSAKeyGenerator(2048).keyID("k1").generate();
    }

    private JwtAuthenticator hmac() {
        return new JwtAuthenticator(JwtSettings.hmacSecret(ISSUER, AUDIENCE, SECRET), clock);
    }

    private JwtAuthenticator jwks() throws Exception {
        Path file = dir.resolve("jwks.json");
        Files.writeString(file, new JWKSet(rsa.toPublicJWK()).toString());
        return new JwtAuthenticator(JwtSettings.jwksFile(ISSUER, AUDIENCE, file), clock);
    }

    /** Valid claims for tenant acme, role member, expiring in an hour; {@code change} adjusts them. */
    private static JWTClaimsSet claims(UnaryOperator<JWTClaimsSet.Builder> change) {
        return change.apply(new JWTClaimsSet.Builder()
                .subject("alice")
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE, "other-api"))
                .issueTime(Date.from(NOW))
                .expirationTime(Date.from(NOW.plus(Duration.ofHours(1))))
                .claim("tenant", "acme")
                .claim("role", "member")).build();
    }

    private static String hs256(JWTClaimsSet claims) throws Exception {
        return sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, null, claims);
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
        return sign(new RSASSASigner(key), JWSAlgorithm.RS256, key.getKeyID(), claims);
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    @Test
    void aValidHs256TokenGivesTheTenantAndRoleOfItsClaims() throws Exception {
        Principal p = hmac().authenticate("Bearer " + hs256(claims(b -> b)));

        assertEquals(new Principal("alice", "acme", Role.MEMBER), p);
    }

    /**
     * An HMAC-signed token made by hand (nimbus's MACSigner refuses HS384 and HS512 with a secret
     * shorter than their hash, which is the case under test); the HMAC is the JCA's.
     */
    private static String hmacToken(JWSAlgorithm alg, String kid, String secret, Set<String> crit, JWTClaimsSet claims)
            throws Exception {
        JWSHeader.Builder header = new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT);
        if (crit != null) {
            header.criticalParams(crit);
            crit.forEach(name -> header.customParam(name, true));
        }
        String signingInput = header.build().toBase64URL() + "." + claims.toPayload().toBase64URL();
        String jca = "Hmac" + alg.getName().replace("HS", "SHA");
        Mac mac = Mac.getInstance(jca);
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), jca));
        return signingInput + "." + Base64URL.encode(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void hs384AndHs512AreAcceptedWithAnySecretOfAtLeast32Bytes() throws Exception {
        assertTrue(SECRET.getBytes(StandardCharsets.UTF_8).length < 48, "shorter than either hash");
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512)) {
            Principal p = hmac().authenticate("Bearer " + hmacToken(alg, null, SECRET, null, claims(b -> b)));
            assertEquals(new Principal("alice", "acme", Role.MEMBER), p, alg.getName());
            assertRefused(hmac(), hmacToken(alg, null, SECRET + "x", null, claims(b -> b)));
        }
    }

    @Test
    void anHs256TokenWithAKidIsAcceptedSinceTheSecretHasNoKidToMatch() throws Exception {
        Principal p = hmac().authenticate("Bearer " + hmacToken(JWSAlgorithm.HS256, "key-2026", SECRET, null,
                claims(b -> b)));
        assertEquals(new Principal("alice", "acme", Role.MEMBER), p);
    }

    @Test
    void aTokenWithCriticalHeaderParametersIsRefused() throws Exception {
        assertRefused(hmac(), hmacToken(JWSAlgorithm.HS256, null, SECRET, Set.of("x-must-understand"), claims(b -> b)));
    }

    @Test
    void aValidRs256TokenIsCheckedAgainstTheJwksFile() throws Exception {
        Principal p = jwks().authenticate("Bearer " + rs256(rsa, claims(b -> b.claim("role", "ADMIN"))));

        assertEquals(new Principal("alice", "acme", Role.ADMIN), p);
    }

    @Test
    void tenantAndRoleComeFromTheConfiguredClaims() throws Exception {
        JwtAuthenticator auth = new JwtAuthenticator(JwtSettings.hmacSecret(ISSUER, AUDIENCE, SECRET)
                .withClaims("org", "batchllm_role"), clock);

        Principal p = auth.authenticate("Bearer " + hs256(claims(b -> b.claim("org", "globex")
                .claim("batchllm_role", "reader"))));

        assertEquals(new Principal("alice", "globex", Role.READER), p);
    }

    @Test
    void anExpiredTokenIsRefused() throws Exception {
        String token = hs256(claims(b -> b.expirationTime(Date.from(NOW.minus(Duration.ofMinutes(5))))));

        assertRefused(hmac(), token);
    }

    @Test
    void expiryAllowsTheClockSkewAndNoMore() throws Exception {
        String token = hs256(claims(b -> b.expirationTime(Date.from(NOW))));
        JwtAuthenticator auth = hmac();

        clock.advance(JwtSettings.DEFAULT_CLOCK_SKEW.minusSeconds(1));
        assertEquals("acme", auth.authenticate("Bearer " + token).tenant());
        clock.advance(Duration.ofSeconds(2));
        assertRefused(auth, token);
    }

    @Test
    void aTokenWithoutExpiryIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.expirationTime(null))));
    }

    @Test
    void aTokenNotYetValidIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.notBeforeTime(Date.from(NOW.plus(Duration.ofMinutes(10)))))));
    }

    @Test
    void aWrongIssuerIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.issuer("https://evil.example.com/"))));
    }

    @Test
    void aWrongAudienceIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.audience("another-service"))));
    }

    @Test
    void aSignatureByAnotherKeyIsRefused() throws Exception {
        assertRefused(jwks(), rs256(otherRsa, claims(b -> b)));
    }

    @Test
    void aTamperedPayloadIsRefused() throws Exception {
        String[] parts = hs256(claims(b -> b)).split("\\.");
        String forgedPayload = claims(b -> b.claim("role", "admin")).toPayload().toBase64URL().toString();

        assertRefused(hmac(), parts[0] + "." + forgedPayload + "." + parts[2]);
    }

    @Test
    void anHmacTokenIsRefusedWhereAJwksIsConfigured() throws Exception {
        assertRefused(jwks(), hs256(claims(b -> b)));
    }

    @Test
    void anUnsignedTokenIsRefused() throws Exception {
        assertRefused(hmac(), new PlainJWT(claims(b -> b)).serialize());
    }

    @Test
    void aMissingTenantClaimIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.claim("tenant", null))));
    }

    @Test
    void aTenantClaimThatIsNotAStringIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.claim("tenant", List.of("a", "b")))));
    }

    @Test
    void anUnknownRoleIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.claim("role", "superuser"))));
    }

    @Test
    void aMissingSubjectIsRefused() throws Exception {
        assertRefused(hmac(), hs256(claims(b -> b.subject(null))));
    }

    @Test
    void aMissingOrNonBearerHeaderIsRefused() throws Exception {
        assertRefused(hmac(), null);
        JwtAuthenticator auth = hmac();
        String token = hs256(claims(b -> b));
        assertThrows(AuthenticationException.class, () -> auth.authenticate("Basic " + token));
        assertThrows(AuthenticationException.class, () -> auth.authenticate("Bearer not.a.jwt"));
    }

    @Test
    void settingsNeedExactlyOneKeySourceAndALongEnoughSecret() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new JwtSettings(ISSUER, AUDIENCE, dir, null, SECRET, "tenant", "role", Duration.ZERO))
                .getMessage().contains("exactly one key source"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> JwtSettings.hmacSecret(ISSUER, AUDIENCE, "short"))
                .getMessage().contains("at least 32 bytes"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> JwtSettings.hmacSecret(ISSUER, " ", SECRET)).getMessage().contains("audience"));
        assertTrue(!JwtSettings.hmacSecret(ISSUER, AUDIENCE, SECRET).toString().contains(SECRET));
    }

    @Test
    void aJwksUrlIsFetchedToVerifyTokens() throws Exception {
        HttpServer idp = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        byte[] body = new JWKSet(rsa.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        idp.createContext("/jwks.json", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        idp.start();
        try {
            URI url = URI.create("http://127.0.0.1:" + idp.getAddress().getPort() + "/jwks.json");
            JwtAuthenticator auth = new JwtAuthenticator(JwtSettings.jwksUrl(ISSUER, AUDIENCE, url), clock);

            assertEquals(new Principal("alice", "acme", Role.MEMBER),
                    auth.authenticate("Bearer " + rs256(rsa, claims(b -> b))));
            assertRefused(auth, rs256(otherRsa, claims(b -> b)));
        } finally {
            idp.stop(0);
        }
    }

    @Test
    void anUnreachableJwksUrlIsAServerFaultNotA401() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        URI url = URI.create("http://127.0.0.1:" + closedPort + "/jwks.json");
        JwtAuthenticator auth = new JwtAuthenticator(JwtSettings.jwksUrl(ISSUER, AUDIENCE, url), clock);
        String token = rs256(rsa, claims(b -> b));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> auth.authenticate("Bearer " + token));
        assertTrue(e.getMessage().contains(url.toString()), e.getMessage());
    }

    @Test
    void anUnreadableJwksFileIsNamedAtStart() {
        Path missing = dir.resolve("missing.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JwtAuthenticator(JwtSettings.jwksFile(ISSUER, AUDIENCE, missing), clock));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    private static void assertRefused(JwtAuthenticator auth, String token) {
        String header = token == null ? null : "Bearer " + token;
        AuthenticationException e = assertThrows(AuthenticationException.class, () -> auth.authenticate(header));
        assertEquals(JwtAuthenticator.MESSAGE, e.getMessage());
    }
}
