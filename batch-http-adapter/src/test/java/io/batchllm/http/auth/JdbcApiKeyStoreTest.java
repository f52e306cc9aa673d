package io.batchllm.http.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.store.JdbcJobStore;
import io.batchllm.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcApiKeyStoreTest {
    @TempDir
    Path dir;
    private JdbcJobStore jobStore;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private JdbcApiKeyStore keys;

    @BeforeEach
    void open() {
        jobStore = JdbcJobStore.h2(dir);
        keys = new JdbcApiKeyStore(jobStore.dataSource(), clock, new SecureRandom());
    }

    @AfterEach
    void close() {
        jobStore.close();
    }

    @Test
    void keysHaveTheDocumentedShapeAndA256BitSecret() {
        String token = keys.create("acme", Role.MEMBER).token();

        assertTrue(Pattern.matches("sk-batchllm-[0-9a-f]{16}-[A-Za-z0-9_-]{43}", token), token);
        // 43 base64url characters without padding carry 258 bits, of which the 32 random bytes fill 256.
        assertEquals(32, java.util.Base64.getUrlDecoder().decode(ApiKeyAuthenticatorTest.secretOf(token)).length);
    }

    @Test
    void theTableHoldsOnlyTheSecretsHashNeverTheSecret() throws Exception {
        IssuedApiKey issued = keys.create("acme", Role.ADMIN);
        String secret = ApiKeyAuthenticatorTest.secretOf(issued.token());

        try (Connection c = jobStore.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM api_keys")) {
            assertTrue(rs.next());
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                String value = rs.getString(i);
                if (value != null) {
                    assertFalse(value.contains(secret), "column " + md.getColumnName(i) + " holds the secret");
                    assertFalse(value.contains(issued.token()), "column " + md.getColumnName(i) + " holds the key");
                }
            }
            byte[] expected = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
            assertEquals(HexFormat.of().formatHex(expected), rs.getString("hash"));
            assertEquals(issued.info().id(), rs.getString("id"));
            assertEquals("admin", rs.getString("role"));
            assertFalse(rs.next());
        }
    }

    @Test
    void findReturnsTheStoredHashAndInfo() {
        IssuedApiKey issued = keys.create("acme", Role.READER);

        StoredApiKey stored = keys.find(issued.info().id()).orElseThrow();

        assertEquals(issued.info(), stored.info());
        assertArrayEquals(issued.key().secretHash(), stored.secretHash());
        assertTrue(keys.find("0000000000000000").isEmpty());
    }

    @Test
    void listShowsEveryKeyOldestFirstWithItsRevocation() {
        IssuedApiKey first = keys.create("acme", Role.ADMIN);
        clock.advance(Duration.ofSeconds(5));
        IssuedApiKey second = keys.create("globex", Role.MEMBER);
        clock.advance(Duration.ofSeconds(5));
        keys.revoke(first.info().id());

        List<ApiKeyInfo> all = keys.list();

        assertEquals(List.of(first.info().id(), second.info().id()), all.stream().map(ApiKeyInfo::id).toList());
        assertEquals(Instant.parse("2026-03-01T10:00:10Z"), all.get(0).revokedAt());
        assertEquals(Instant.parse("2026-03-01T10:00:05Z"), all.get(1).createdAt());
        assertNull(all.get(1).revokedAt());
    }

    @Test
    void revokingTwiceKeepsTheFirstRevocationTime() {
        IssuedApiKey issued = keys.create("acme", Role.MEMBER);
        Instant first = keys.revoke(issued.info().id()).orElseThrow().revokedAt();
        clock.advance(Duration.ofMinutes(3));

        assertEquals(first, keys.revoke(issued.info().id()).orElseThrow().revokedAt());
    }

    @Test
    void revokingAnUnknownIdFindsNothing() {
        assertTrue(keys.revoke("0123456789abcdef").isEmpty());
    }

    @Test
    void anInvalidTenantIsRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> keys.create("", Role.MEMBER))
                .getMessage().contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> keys.create("a b", Role.MEMBER))
                .getMessage().contains("white space"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> keys.create("x".repeat(257), Role.MEMBER))
                .getMessage().contains("at most 256"));
        assertTrue(keys.list().isEmpty());
    }
}
