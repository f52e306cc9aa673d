package io.batchllm.http.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An API key as a client presents it: {@code sk-batchllm-<id>-<secret>}. The id (16 hex digits) names
 * the key in the store, in {@code keys list} and in logs; it is not secret. The secret is 32 bytes from
 * {@link SecureRandom} (256 bits), base64url without padding (43 characters).
 *
 * <p>Immutable and thread safe. {@link #toString()} never shows the secret.
 */
public final class ApiKey {
    /** What every key starts with, so that secret scanners and people recognise one. */
    public static final String PREFIX = "sk-batchllm-";
    static final int ID_BYTES = 8;
    static final int SECRET_BYTES = 32;

    private static final Pattern FORMAT = Pattern.compile(
            Pattern.quote(PREFIX) + "([0-9a-f]{" + ID_BYTES * 2 + "})-([A-Za-z0-9_-]{43})");
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final String id;
    private final String secret;

    private ApiKey(String id, String secret) {
        this.id = id;
        this.secret = secret;
    }

    /** A new key with a random id and a random 256-bit secret. */
    public static ApiKey generate(SecureRandom random) {
        byte[] id = new byte[ID_BYTES];
        byte[] secret = new byte[SECRET_BYTES];
        random.nextBytes(id);
        random.nextBytes(secret);
        return new ApiKey(HexFormat.of().formatHex(id), BASE64URL.encodeToString(secret));
    }

    /** The key in {@code token}, or empty when it does not have the shape of one of our keys. */
    public static Optional<ApiKey> parse(String token) {
        if (token == null) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(token);
        return m.matches() ? Optional.of(new ApiKey(m.group(1), m.group(2))) : Optional.empty();
    }

    /** The key's id: not secret, shown by {@code keys list}. */
    public String id() {
        return id;
    }

    /** The whole key, as the client sends it. Show it once, to the person who created it. */
    public String token() {
        return PREFIX + id + "-" + secret;
    }

    /** The hash that the store keeps instead of the secret: {@link #hashSecret(String)} of this key's secret. */
    public byte[] secretHash() {
        return hashSecret(secret);
    }

    /**
     * SHA-256 of a secret. A fast hash is enough here, unlike for passwords: the secret has 256 random
     * bits, so nobody can guess it from its hash by trying candidates, and a deliberately slow hash
     * (bcrypt, Argon2) would only cost tens of milliseconds on every request. What the hash prevents is
     * that a copy of the database gives away working keys.
     */
    static byte[] hashSecret(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Whether {@code storedHash} is this key's secret hash, in time that does not depend on where they differ. */
    boolean matches(byte[] storedHash) {
        return MessageDigest.isEqual(secretHash(), storedHash);
    }

    @Override
    public String toString() {
        return PREFIX + id + "-***";
    }
}
