package io.batchllm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import io.batchllm.FilePurpose;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaMigrationTest {
    @TempDir
    Path dir;

    private HikariDataSource h2() {
        HikariDataSource ds = new HikariDataSource();
        ds.setJdbcUrl("jdbc:h2:file:" + dir.resolve("batchllm").toAbsolutePath());
        ds.setUsername("sa");
        return ds;
    }

    @Test
    void aVersionOneDatabaseIsUpgradedKeepingItsData() throws Exception {
        try (HikariDataSource ds = h2()) {
            assertEquals(1, new SchemaMigrator(SqlDialect.H2).migrate(ds, 1));
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO files (id, filename, purpose, bytes, created_at, owner) "
                        + "VALUES ('file-old', 'old.jsonl', 'batch', 3, 7, 'me')");
                assertEquals(1, SchemaMigrator.currentVersion(c));
            }
        }
        try (JdbcJobStore store = JdbcJobStore.h2(dir)) {
            FileRecord old = store.findFile("file-old").orElseThrow();
            assertEquals(FilePurpose.BATCH, old.file().purpose());
            assertEquals(3, old.file().bytes());
            // Version 2's tables exist now.
            store.recordHandlerFailure(1, "h", "batch_x", null, "e", 1);
            assertEquals(1, store.countHandlerFailures("batch_x"));
            try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
                assertEquals(SchemaMigrator.CURRENT_VERSION, SchemaMigrator.currentVersion(c));
                // Version 3's table exists now (the HTTP adapter's API keys).
                s.executeUpdate("INSERT INTO api_keys (id, tenant, role, hash, created_at) VALUES ('k', 't', 'member', "
                        + "'00', 1)");
            }
        }
    }

    @Test
    void aDatabaseFromANewerBatchLlmIsRefused() throws Exception {
        try (HikariDataSource ds = h2()) {
            new SchemaMigrator(SqlDialect.H2).migrate(ds);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
            }
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> JdbcJobStore.h2(dir));
        assertTrue(e.getMessage().contains("schema version 99"), e.getMessage());
    }

    @Test
    void reopeningACurrentDatabaseChangesNothing() {
        try (JdbcJobStore store = JdbcJobStore.h2(dir)) {
            store.insertFile(JobStoreContract.file("file-1", FilePurpose.BATCH, 1));
        }
        try (JdbcJobStore store = JdbcJobStore.h2(dir)) {
            assertTrue(store.findFile("file-1").isPresent());
        }
    }

    @Test
    void scriptsSplitIntoStatements() {
        assertEquals(2, SchemaMigrator.split("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n").size());
    }

    @Test
    void anUnsupportedDatabaseUrlIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SqlDialect.forUrl("jdbc:mysql://x"));
        assertTrue(e.getMessage().contains("jdbc:mysql://x"));
    }
}
