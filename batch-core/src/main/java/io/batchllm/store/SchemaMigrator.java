package io.batchllm.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a database's schema to the version this code needs. Versions are numbered scripts
 * ({@code V1.sql}, {@code V2.sql}, …) in portable SQL, where {@code ${text}} stands for the dialect's
 * unbounded text type; table {@code schema_version} records which ran.
 * Each script runs in its own transaction, so a failed upgrade leaves the previous version intact.
 *
 * <p>A database newer than this code (a later BatchLLM wrote it) is refused rather than guessed at.
 */
public final class SchemaMigrator {
    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

    /** The schema version this code writes and reads. */
    public static final int CURRENT_VERSION = 4;

    private final SqlDialect dialect;

    public SchemaMigrator(SqlDialect dialect) {
        this.dialect = dialect;
    }

    /** Upgrades to {@link #CURRENT_VERSION}. */
    public int migrate(DataSource ds) {
        return migrate(ds, CURRENT_VERSION);
    }

    /** Upgrades to {@code target} (tests use this to build an old database); returns the version reached. */
    public int migrate(DataSource ds, int target) {
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
            }
            int current = currentVersion(c);
            if (current > CURRENT_VERSION) {
                throw new IllegalStateException("the database has schema version " + current + " but this BatchLLM "
                        + "understands up to " + CURRENT_VERSION + ": use a newer BatchLLM with this database");
            }
            for (int v = current + 1; v <= target; v++) {
                apply(c, v);
            }
            return Math.max(current, target);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot migrate the job store schema: " + e.getMessage(), e);
        }
    }

    /** The version recorded in the database; 0 for an empty one. */
    public static int currentVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private void apply(Connection c, int version) throws SQLException {
        String script = load(version);
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String stmt : split(script)) {
                s.execute(stmt);
            }
            s.executeUpdate("INSERT INTO schema_version (version, applied_at) VALUES (" + version + ", "
                    + System.currentTimeMillis() / 1000 + ")");
            c.commit();
            log.info("job store schema upgraded to version {}", version);
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private String load(int version) {
        String name = "migrations/V" + version + ".sql";
        try (InputStream in = SchemaMigrator.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing schema script " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${text}", dialect.textType());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Splits on semicolons at line ends; our scripts keep one statement per semicolon and no procedures. */
    static List<String> split(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : script.split("\n")) {
            String t = line.strip();
            if (t.startsWith("--") || t.isEmpty()) {
                continue;
            }
            cur.append(line).append('\n');
            if (t.endsWith(";")) {
                String stmt = cur.toString().strip();
                out.add(stmt.substring(0, stmt.length() - 1));
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().strip());
        }
        return out;
    }
}
