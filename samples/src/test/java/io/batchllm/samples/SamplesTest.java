package io.batchllm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplesTest {
    @TempDir
    Path dir;

    @Test
    void theJdbcHandlerIsDiscoveredThroughServiceLoaderAndStoresEveryResult() throws Exception {
        String url = "jdbc:h2:mem:samples-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
        System.setProperty(JdbcResultHandler.URL_PROPERTY, url);
        Path input = dir.resolve("requests.jsonl");
        Files.writeString(input, Jsonl.chatLines(25));
        try (BatchService service = BatchService.builder()
                .dataDirectory(dir.resolve("data"))
                .backend(TestBackend.standard())
                .pollInterval(Duration.ofMillis(20))
                .build()) { // no handler registered: discovery finds the sample's META-INF/services entry
            Batch done = EmbeddingExample.run(service, input, new ByteArrayOutputStream());
            assertEquals(BatchStatus.COMPLETED, done.status());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (count(url) < 25) {
                assertTrue(System.nanoTime() < deadline, "handler stored " + count(url) + " of 25");
                Thread.sleep(20);
            }
        } finally {
            System.clearProperty(JdbcResultHandler.URL_PROPERTY);
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT body FROM batch_results WHERE custom_id = 'req-3'")) {
            assertTrue(rs.next());
            assertTrue(rs.getString(1).contains("echo: hello 3"));
        }
    }

    @Test
    void theEmbeddingExampleWritesTheOutputFile() throws Exception {
        Path input = dir.resolve("requests.jsonl");
        Files.writeString(input, Jsonl.chatLines(3));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (BatchService service = BatchService.builder()
                .dataDirectory(dir.resolve("data2"))
                .backend(TestBackend.standard())
                .discoverPlugins(false)
                .build()) {
            Batch done = EmbeddingExample.run(service, input, out);
            assertEquals(new io.batchllm.RequestCounts(3, 3, 0), done.requestCounts());
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(3, text.lines().count());
        assertTrue(text.contains("\"custom_id\":\"req-2\""));
    }

    private static int count(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM batch_results")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
