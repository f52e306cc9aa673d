package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.store.JdbcJobStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression test: {@code serve} exited 143 within a second of SIGTERM, logged "could not store 29
 * results: Database is already closed", and left rows leased, to be run again once their leases
 * expired. Its shutdown hook only signalled the main thread and returned, so the JVM halted mid-close,
 * and H2's own hook had closed the database already. Now a child JVM sent SIGTERM while requests run
 * stores every answer it got, gives the rest back, and exits 0.
 */
class ServeSignalTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LINES = 400;

    @TempDir
    Path dir;

    @Test
    void sigtermLetsRunningRequestsFinishStoresThemReleasesTheRestAndExitsZero() throws Exception {
        Path data = dir.resolve("data");
        Path model = Files.writeString(dir.resolve("model.gguf"), "the test backend ignores the file");
        try (ChildJvm child = ChildJvm.start(List.of(), Map.of(), ServeChild.class, "serve", "--port", "0",
                "--auth", "none", "--data-dir", data.toString(), "--model", "test-model=" + model);
             HttpClient http = HttpClient.newHttpClient()) {
            String port = child.awaitLine(l -> l.startsWith("out: listening ")).substring("out: listening ".length());
            String base = "http://127.0.0.1:" + port;
            String fileId = upload(http, base, IntStream.range(0, LINES).mapToObj(i -> "{\"custom_id\":\"r" + i
                    + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"test-model\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}").collect(Collectors.joining("\n")));
            HttpResponse<String> batch = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/batches"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"input_file_id\":\"" + fileId + "\",\"endpoint\":"
                            + "\"/v1/chat/completions\",\"completion_window\":\"24h\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, batch.statusCode(), batch.body());
            String batchId = JSON.readTree(batch.body()).get("id").asText();
            child.awaitLine(l -> l.equals("out: answered " + batchId + "#8"));

            child.signal("TERM");
            assertEquals(0, child.awaitExit(), child.output());
            String output = child.output();
            assertFalse(output.contains("Database is already closed"), output);
            assertFalse(output.contains("could not store"), output);
            long answered = output.lines().filter(l -> l.startsWith("out: answered ")).count();
            assertTrue(answered < LINES, "the batch was still running at the signal");

            try (JdbcJobStore store = JdbcJobStore.h2(data); Connection c = store.dataSource().getConnection();
                 Statement s = c.createStatement()) {
                assertEquals(0, count(s, "SELECT COUNT(*) FROM requests WHERE state = 1"), "no row is left leased");
                assertEquals(answered, count(s, "SELECT COUNT(*) FROM requests WHERE state = 2"),
                        "every answer the backend gave is stored, and nothing else finished");
            }
        }
    }

    private static String upload(HttpClient http, String base, String jsonl) throws Exception {
        String boundary = "batchllm-test-boundary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                + "Content-Type: application/jsonl\r\n\r\n" + jsonl + "\n\r\n--" + boundary + "--\r\n";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
