package io.batchllm.http.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates {@code Authorization: Bearer sk-batchllm-…} API keys against an {@link ApiKeyStore}.
 *
 * <p>A missing header, another scheme, a malformed key, an unknown id, a wrong secret and a revoked key
 * all give the same {@link AuthenticationException} message ({@value #MESSAGE}), so a caller learns
 * nothing about which keys exist. The secret's hash is compared with {@code MessageDigest.isEqual},
 * whose time does not depend on where two hashes differ.
 *
 * <p>Active keys read from the store are cached for {@link #DEFAULT_CACHE_TTL} (configurable), so a
 * busy client costs no database query per request. The price: a key revoked by another process (such
 * as {@code batchllm keys revoke}) keeps working in this one for at most that long. Unknown ids are not
 * cached, so guessing cannot fill the cache. Thread safe.
 */
public final class ApiKeyAuthenticator implements Authenticator {
    /** How long a key read from the store is trusted before it is read again: 10 seconds. */
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(10);
    /** The one message of every refusal; OpenAI's wording, without the key. */
    static final String MESSAGE = "Incorrect API key provided. Pass a key created with 'batchllm keys create' as "
            + "'Authorization: Bearer sk-batchllm-…'.";

    private final ApiKeyStore store;
    private final Duration cacheTtl;
    private final Clock clock;
    private final ConcurrentHashMap<String, CachedKey> cache = new ConcurrentHashMap<>();

    /**
     * @param cacheTtl how long an active key read from the store is used without reading it again
     *     (the longest a revocation elsewhere can take to apply here); {@link Duration#ZERO} disables
     *     the cache; at most one hour
     */
    public ApiKeyAuthenticator(ApiKeyStore store, Duration cacheTtl, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (cacheTtl.isNegative() || cacheTtl.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("the API key cache time must be between 0 and 1 hour, was " + cacheTtl);
        }
        this.cacheTtl = cacheTtl;
    }

    /** An authenticator with the {@link #DEFAULT_CACHE_TTL default cache time} on the system clock. */
    public ApiKeyAuthenticator(ApiKeyStore store) {
        this(store, DEFAULT_CACHE_TTL, Clock.systemUTC());
    }

    @Override
    public Principal authenticate(String authorizationHeader) {
        ApiKey presented = BearerToken.of(authorizationHeader).flatMap(ApiKey::parse).orElseThrow(ApiKeyAuthenticator::refused);
        // Looking the id up first reveals, by timing, whether an id exists; ids are not secret (they are
        // in every key, in 'keys list' and in logs), only the secret is, and that is compared in constant time.
        StoredApiKey stored = active(presented.id()).orElseThrow(ApiKeyAuthenticator::refused);
        if (!presented.matches(stored.secretHash())) {
            throw refused();
        }
        return stored.info().principal();
    }

    /** The active key with this id, from the cache while it is fresh, otherwise from the store. */
    private Optional<StoredApiKey> active(String id) {
        Instant now = clock.instant();
        CachedKey cached = cache.get(id);
        if (cached != null && now.isBefore(cached.readAt.plus(cacheTtl))) {
            return Optional.of(cached.key);
        }
        Optional<StoredApiKey> found = store.find(id).filter(k -> !k.info().revoked());
        if (found.isPresent() && cacheTtl.isPositive()) {
            cache.put(id, new CachedKey(found.get(), now));
        } else {
            cache.remove(id);
        }
        return found;
    }

    private static AuthenticationException refused() {
        return new AuthenticationException(MESSAGE);
    }

    private record CachedKey(StoredApiKey key, Instant readAt) {
    }
}
