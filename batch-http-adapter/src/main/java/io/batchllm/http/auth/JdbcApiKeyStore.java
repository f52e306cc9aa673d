package io.batchllm.http.auth;

import io.batchllm.store.StoreException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * API keys in table {@code api_keys} of the job store's database (H2 or PostgreSQL), which
 * {@code SchemaMigrator} version 3 creates: open the job store first (it migrates on open) and pass
 * its {@code dataSource()}. Each key is one row with its id, tenant, role, the hex SHA-256 of its
 * secret and its creation and revocation times in Unix seconds.
 *
 * <p>Thread safe: every method is one statement (or one short transaction) on a pooled connection.
 * Database failures surface as {@link StoreException}.
 */
public final class JdbcApiKeyStore implements ApiKeyStore {
    private static final String COLUMNS = "id, tenant, role, hash, created_at, revoked_at";

    private final DataSource dataSource;
    private final Clock clock;
    private final SecureRandom random;

    /**
     * @param dataSource the job store's database, at schema version 3 or later
     * @param clock the source of creation and revocation times
     * @param random where key ids and secrets come from
     */
    public JdbcApiKeyStore(DataSource dataSource, Clock clock, SecureRandom random) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    /** A store on {@code dataSource} with the system clock and a default {@link SecureRandom}. */
    public static JdbcApiKeyStore on(DataSource dataSource) {
        return new JdbcApiKeyStore(dataSource, Clock.systemUTC(), new SecureRandom());
    }

    @Override
    public IssuedApiKey create(String tenant, Role role) {
        Tenants.check(tenant);
        Objects.requireNonNull(role, "role");
        ApiKey key = ApiKey.generate(random);
        Instant now = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO api_keys (id, tenant, role, hash, created_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, key.id());
            ps.setString(2, tenant);
            ps.setString(3, Roles.name(role));
            ps.setString(4, HexFormat.of().formatHex(key.secretHash()));
            ps.setLong(5, now.getEpochSecond());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw failure("create an API key", e);
        }
        return new IssuedApiKey(new ApiKeyInfo(key.id(), tenant, role, now, null), key);
    }

    @Override
    public Optional<StoredApiKey> find(String id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("read API key " + id, e);
        }
    }

    @Override
    public List<ApiKeyInfo> list() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT " + COLUMNS + " FROM api_keys ORDER BY created_at, id");
             ResultSet rs = ps.executeQuery()) {
            List<ApiKeyInfo> out = new ArrayList<>();
            while (rs.next()) {
                out.add(read(rs).info());
            }
            return out;
        } catch (SQLException e) {
            throw failure("list API keys", e);
        }
    }

    @Override
    public Optional<ApiKeyInfo> revoke(String id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
            ps.setLong(1, clock.instant().getEpochSecond());
            ps.setString(2, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw failure("revoke API key " + id, e);
        }
        return find(id).map(StoredApiKey::info);
    }

    private static StoredApiKey read(ResultSet rs) throws SQLException {
        String id = rs.getString("id");
        String roleName = rs.getString("role");
        Role role = Roles.parse(roleName).orElseThrow(() -> new StoreException("API key " + id
                + " has the unknown role '" + roleName + "' in table api_keys; set it to admin, member or reader",
                null));
        long revoked = rs.getLong("revoked_at");
        Instant revokedAt = rs.wasNull() ? null : Instant.ofEpochSecond(revoked);
        ApiKeyInfo info = new ApiKeyInfo(id, rs.getString("tenant"), role,
                Instant.ofEpochSecond(rs.getLong("created_at")), revokedAt);
        return new StoredApiKey(info, HexFormat.of().parseHex(rs.getString("hash")));
    }

    private static StoreException failure(String what, SQLException e) {
        return new StoreException("cannot " + what + " in the job store database: " + e.getMessage(), e);
    }
}
