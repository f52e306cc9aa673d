package io.batchllm.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The job store contract on PostgreSQL. Runs where {@code BATCHLLM_TEST_POSTGRES_URL} names a server
 * (".ci/run" starts a throwaway cluster and sets it); each test gets its own schema.
 */
@EnabledIfEnvironmentVariable(named = PostgresJobStoreTest.ENV, matches = "jdbc:postgresql:.+")
class PostgresJobStoreTest extends JobStoreContract {
    static final String ENV = "BATCHLLM_TEST_POSTGRES_URL";

    private String schema;

    @Override
    protected JobStore openStore() throws Exception {
        String base = System.getenv(ENV);
        schema = "t_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        String url = base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        return JdbcJobStore.open(url, null, null, 8);
    }

    @AfterEach
    void dropSchema() throws Exception {
        try (Connection c = DriverManager.getConnection(System.getenv(ENV)); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
