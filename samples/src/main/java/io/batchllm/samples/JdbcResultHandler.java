package io.batchllm.samples;

import io.batchllm.spi.BatchOutcome;
import io.batchllm.spi.RequestOutcome;
import io.batchllm.spi.ResultHandler;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A result-handler plugin: writes every finished request into a table of its own, as it finishes,
 * so that another system can read results without waiting for the output file.
 *
 * <p>Delivery is at least once, so the write is an upsert on {@code (batch_id, custom_id)}: a
 * redelivered result overwrites itself. Found by {@code ServiceLoader} through
 * {@code META-INF/services/io.batchllm.spi.ResultHandler}; the database is the JDBC URL in the system
 * property {@value #URL_PROPERTY} (default: an in-memory H2 database, {@value #DEFAULT_URL}).
 */
public final class JdbcResultHandler implements ResultHandler {
    public static final String URL_PROPERTY = "batchllm.samples.results.url";
    public static final String DEFAULT_URL = "jdbc:h2:mem:batchllm-results;DB_CLOSE_DELAY=-1";

    private final String url;

    /** The constructor {@code ServiceLoader} uses. */
    public JdbcResultHandler() {
        this(System.getProperty(URL_PROPERTY, DEFAULT_URL));
    }

    public JdbcResultHandler(String url) {
        this.url = url;
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS batch_results (batch_id VARCHAR(64) NOT NULL, "
                    + "custom_id VARCHAR(4096) NOT NULL, status_code INTEGER NOT NULL, body CLOB, error_code VARCHAR(64), "
                    + "total_tokens BIGINT NOT NULL, PRIMARY KEY (batch_id, custom_id))");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare table batch_results at " + url + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "jdbc-results";
    }

    @Override
    public void onRequestFinished(RequestOutcome o) {
        // MERGE is H2's upsert; on PostgreSQL use INSERT … ON CONFLICT (batch_id, custom_id) DO UPDATE.
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("MERGE INTO batch_results (batch_id, custom_id, status_code, "
                     + "body, error_code, total_tokens) KEY (batch_id, custom_id) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, o.batchId());
            ps.setString(2, o.customId());
            ps.setInt(3, o.statusCode());
            ps.setString(4, o.responseBody());
            ps.setString(5, o.errorCode());
            ps.setLong(6, o.usage().totalTokens());
            ps.executeUpdate();
        } catch (SQLException e) {
            // Throwing makes the service retry this event, then record it as failed for this handler.
            throw new IllegalStateException("cannot store result " + o.customId() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onBatchFinished(BatchOutcome outcome) {
        System.out.printf("batch %s %s: %d succeeded, %d failed%n", outcome.batchId(), outcome.status(),
                outcome.completed(), outcome.failed());
    }
}
