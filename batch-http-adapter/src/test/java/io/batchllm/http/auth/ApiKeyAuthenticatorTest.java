package io.batchllm.http.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.store.JdbcJobStore;
import io.batchllm.testing.MutableClock;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class ApiKeyAuthenticatorTest {
    private static final Duration TTL = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private JdbcJobStore jobStore;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private JdbcApiKeyStore keys;
    private ApiKeyAuthenticator auth;

    @BeforeEach
    void open() {
        jobStore = JdbcJobStore.h2(dir);
        keys = new JdbcApiKeyStore(jobStore.dataSource(), clock, new SecureRandom());
        auth = new ApiKeyAuthenticator(keys, TTL, clock);
    }

    @AfterEach
    void close() {
        jobStore.close();
    }

    @Test
    void aCreatedKeyAuthenticatesAsItsTenantAndRole() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);

        Principal p = auth.authenticate("Bearer " + issued.token());

        assertEquals(new Principal(issued.info().id(), "acme", Role.MEMBER), p);
    }

    @Test
    void theBearerSchemeIsCaseInsensitive() {
        IssuedApiKey issued = keys.create("acme", Role.READER);

        assertEquals(Role.READER, auth.authenticate("bearer  " + issued.token()).role());
    }

    @Test
    void eachKeyIsItsOwnPrincipal() {
        IssuedApiKey a = keys.create("acme", Role.ADMIN);
        IssuedApiKey b = keys.create("globex", Role.READER);

        assertEquals(new Principal(a.info().id(), "acme", Role.ADMIN), auth.authenticate("Bearer " + a.token()));
        assertEquals(new Principal(b.info().id(), "globex", Role.READER), auth.authenticate("Bearer " + b.token()));
    }

    @Test
    void aWrongSecretForAnExistingIdIsRefused() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        String other = ApiKey.generate(new SecureRandom()).token();
        String forged = ApiKey.PREFIX + issued.info().id() + "-" + secretOf(other);

        assertRefused("Bearer " + forged);
    }

    @Test
    void aWellFormedKeyWithAnUnknownIdIsRefused() {
        keys.create("acme", Role.MEMBER);

        assertRefused("Bearer " + ApiKey.generate(new SecureRandom()).token());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "sk-batchllm-0123456789abcdef-x",
            "Bearer sk-batchllm-0123456789abcdef", "Bearer sk-batchllm-XYZ-abc", "Bearer not-a-key",
            "Bearer a b", "Token sk-batchllm-0123456789abcdef-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void aMissingOrMalformedHeaderIsRefused(String header) {
        assertRefused(header);
    }

    @Test
    void aRevokedKeyIsRefusedOnceTheCacheTimeHasPassed() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        auth.authenticate("Bearer " + issued.token());

        keys.revoke(issued.info().id());
        // The documented bound: a key this process has verified may work up to the cache time after revocation.
        assertEquals("acme", auth.authenticate("Bearer " + issued.token()).tenant());
        clock.advance(TTL);

        assertRefused("Bearer " + issued.token());
    }

    @Test
    void withoutACacheARevokedKeyIsRefusedAtOnce() {
        ApiKeyAuthenticator uncached = new ApiKeyAuthenticator(keys, Duration.ZERO, clock);
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        uncached.authenticate("Bearer " + issued.token());

        keys.revoke(issued.info().id());

        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> uncached.authenticate("Bearer " + issued.token()));
        assertEquals(ApiKeyAuthenticator.MESSAGE, e.getMessage());
    }

    @Test
    void aKeyRevokedBeforeItWasEverUsedIsRefused() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        keys.revoke(issued.info().id());

        assertRefused("Bearer " + issued.token());
    }

    @Test
    void theCacheTimeIsBounded() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ApiKeyAuthenticator(keys, Duration.ofHours(2), clock));
        assertTrue(e.getMessage().contains("cache time"), e.getMessage());
    }

    @Test
    void aKeyPrintsWithoutItsSecret() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        String secret = secretOf(issued.token());

        assertFalse(issued.key().toString().contains(secret));
        assertFalse(issued.toString().contains(secret));
        assertFalse(keys.find(issued.info().id()).orElseThrow().toString().contains(secret));
    }

    /** The secret part of a key: after the prefix, the 16-digit id and a dash (the secret itself may hold dashes). */
    static String secretOf(String token) {
        return token.substring(ApiKey.PREFIX.length() + 17);
    }

    /** Every refusal reads the same, so that a caller cannot tell an unknown key from a wrong or revoked one. */
    private void assertRefused(String header) {
        AuthenticationException e = assertThrows(AuthenticationException.class, () -> auth.authenticate(header));
        assertEquals(ApiKeyAuthenticator.MESSAGE, e.getMessage());
        assertTrue(e.getMessage().startsWith("Incorrect API key provided"), e.getMessage());
    }
}
