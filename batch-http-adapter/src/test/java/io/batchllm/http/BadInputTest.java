package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input table: each row is a request a careless or hostile client could send. None may give a
 * 500 or leave data behind: the answer is the listed 4xx with the envelope naming the parameter, the
 * file list is unchanged and no partial file is left in the data directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String B = "bOuNdArY";
    private static final String MP = "multipart/form-data; boundary=" + B;
    private static final String LINE = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";
    private static final long MAX_UPLOAD = 64 * 1024;
    private static final long MAX_JSON = 4 * 1024;

    private TestServer server;
    private String batchFileId;
    private Path dataDir;

    /** One row: a raw request and the expected answer. */
    record Row(String name, String method, String path, String contentType, byte[] body, int status, String param) {
        Row withContentType(String type, int newStatus, String newParam) {
            return new Row(name, method, path, type, body, newStatus, newParam);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    void start(@TempDir Path dir) {
        dataDir = dir;
        server = new TestServer(dir, b -> b.authenticator(io.batchllm.http.auth.Authenticator.none())
                .maxUploadBytes(MAX_UPLOAD).maxJsonBytes(MAX_JSON).maxJsonDepth(8));
        batchFileId = server.service.files().upload(new java.io.ByteArrayInputStream(
                LINE.getBytes(StandardCharsets.UTF_8)), "in.jsonl", io.batchllm.FilePurpose.BATCH).id();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String part(String disposition, String content) {
        return "--" + B + "\r\nContent-Disposition: form-data; " + disposition + "\r\n\r\n" + content + "\r\n";
    }

    private static String file(String name, String content) {
        return part("name=\"file\"; filename=\"" + name + "\"", content);
    }

    private static String purpose(String p) {
        return part("name=\"purpose\"", p);
    }

    private static final String END = "--" + B + "--\r\n";
    private static final String ANCHOR = part("name=\"expires_after[anchor]\"", "created_at");

    private static Row upload(String name, String body, int status, String param) {
        return new Row(name, "POST", "/v1/files", MP, bytes(body), status, param);
    }

    private static Row batch(String name, String body, int status, String param) {
        return new Row(name, "POST", "/v1/batches", "application/json", bytes(body), status, param);
    }

    Stream<Row> rows() {
        String ok = "\"input_file_id\":\"" + batchFileId + "\",\"endpoint\":\"/v1/chat/completions\","
                + "\"completion_window\":\"24h\"";
        return Stream.of(
                upload("upload without content type boundary", file("a.jsonl", LINE) + purpose("batch") + END, 200, null)
                        .withContentType("multipart/form-data", 400, "Content-Type"),
                upload("upload as JSON", "{}", 400, "Content-Type").withContentType("application/json", 400,
                        "Content-Type"),
                upload("multipart without closing boundary", file("a.jsonl", LINE) + purpose("batch"), 400, "file"),
                upload("multipart that is garbage", "hello world", 400, "file"),
                upload("part without a name", part("filename=\"a.jsonl\"", LINE) + END, 400, "file"),
                upload("file part without filename", part("name=\"file\"", LINE) + purpose("batch") + END, 400, "file"),
                upload("no file part", purpose("batch") + END, 400, "file"),
                upload("no purpose", file("a.jsonl", LINE) + END, 400, "purpose"),
                upload("unknown purpose", purpose("weights") + file("a.jsonl", LINE) + END, 400, "purpose"),
                upload("output purpose", file("a.jsonl", LINE) + purpose("batch_output") + END, 400, "purpose"),
                upload("batch file not .jsonl", file("a.csv", LINE) + purpose("batch") + END, 400, "file"),
                upload("two file parts", file("a.jsonl", LINE) + file("b.jsonl", LINE) + purpose("batch") + END, 400,
                        "file"),
                upload("expiry not a number", file("a.jsonl", LINE) + purpose("batch") + ANCHOR
                        + part("name=\"expires_after[seconds]\"", "soon") + END, 400, "expires_after[seconds]"),
                upload("expiry out of range", file("a.jsonl", LINE) + purpose("batch") + ANCHOR
                        + part("name=\"expires_after[seconds]\"", "60") + END, 400, "expires_after[seconds]"),
                upload("expiry seconds without its anchor", purpose("batch") + file("a.jsonl", LINE)
                        + part("name=\"expires_after[seconds]\"", "7200") + END, 400, "expires_after[anchor]"),
                upload("expiry anchor without its seconds", purpose("batch") + file("a.jsonl", LINE)
                        + part("name=\"expires_after[anchor]\"", "created_at") + END, 400, "expires_after[seconds]"),
                upload("two purpose parts", purpose("batch") + file("a.jsonl", LINE) + purpose("batch") + END, 400,
                        "purpose"),
                upload("an unknown form field", file("a.jsonl", LINE) + purpose("batch")
                        + part("name=\"purpose_extra\"", "x") + END, 400, "purpose_extra"),
                upload("too many parts", file("a.jsonl", LINE) + purpose("batch")
                        + part("name=\"x\"", "1").repeat(40) + END, 400, "file"),
                upload("part headers too long", part("name=\"file\"; filename=\"a.jsonl\"\r\nX-Pad: "
                        + "p".repeat(10_000), LINE) + purpose("batch") + END, 400, "file"),
                upload("filename over 1024 characters", file("a".repeat(1100) + ".jsonl", LINE) + purpose("batch")
                        + END, 400, "file"),
                upload("bad anchor", purpose("batch") + part("name=\"expires_after[anchor]\"", "now")
                        + file("a.jsonl", LINE) + END, 400, "expires_after[anchor]"),
                upload("field too long", part("name=\"purpose\"", "b".repeat(2000)) + END, 400, "purpose"),
                upload("upload over the body cap, file first", file("a.jsonl", "x".repeat((int) MAX_UPLOAD))
                        + purpose("batch") + END, 413, "file"),
                upload("upload over the body cap, purpose first", purpose("batch") + file("a.jsonl",
                        "x".repeat((int) MAX_UPLOAD)) + END, 413, "file"),
                batch("batch as form", ok, 400, "Content-Type").withContentType("text/plain", 400, "Content-Type"),
                batch("invalid JSON", "{\"input_file_id\":", 400, "body"),
                batch("JSON array", "[1,2]", 400, "body"),
                batch("trailing garbage", "{" + ok + "} x", 400, "body"),
                batch("too deep", "{" + ok + ",\"metadata\":" + "{\"a\":".repeat(20) + "1" + "}".repeat(20) + "}", 400,
                        "body"),
                batch("over the JSON cap", "{" + ok + ",\"x\":\"" + "y".repeat((int) MAX_JSON) + "\"}", 413, "body"),
                batch("missing input_file_id", "{\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}",
                        400, "input_file_id"),
                batch("input_file_id a number", "{\"input_file_id\":5,\"endpoint\":\"/v1/chat/completions\","
                        + "\"completion_window\":\"24h\"}", 400, "input_file_id"),
                batch("unknown input file", "{\"input_file_id\":\"file-nope\",\"endpoint\":\"/v1/chat/completions\","
                        + "\"completion_window\":\"24h\"}", 400, "input_file_id"),
                batch("endpoint unknown", "{\"input_file_id\":\"" + batchFileId + "\",\"endpoint\":\"/v1/chat\","
                        + "\"completion_window\":\"24h\"}", 400, "endpoint"),
                batch("endpoint not served", "{\"input_file_id\":\"" + batchFileId + "\",\"endpoint\":"
                        + "\"/v1/responses\",\"completion_window\":\"24h\"}", 400, "endpoint"),
                batch("window 48h", "{\"input_file_id\":\"" + batchFileId + "\",\"endpoint\":\"/v1/chat/completions\","
                        + "\"completion_window\":\"48h\"}", 400, "completion_window"),
                batch("metadata a list", "{" + ok + ",\"metadata\":[1]}", 400, "metadata"),
                batch("metadata value a number", "{" + ok + ",\"metadata\":{\"k\":1}}", 400, "metadata"),
                batch("output expiry a string", "{" + ok + ",\"output_expires_after\":{\"anchor\":\"created_at\","
                        + "\"seconds\":\"x\"}}", 400, "output_expires_after[seconds]"),
                new Row("limit not a number", "GET", "/v1/files?limit=ten", null, null, 400, "limit"),
                new Row("limit too large", "GET", "/v1/batches?limit=1000", null, null, 400, "limit"),
                new Row("order sideways", "GET", "/v1/files?order=up", null, null, 400, "order"),
                new Row("purpose filter unknown", "GET", "/v1/files?purpose=x", null, null, 400, "purpose"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void isRefusedCleanly(Row row) throws Exception {
        List<String> before = fileIds();
        HttpRequest.Builder r = server.request(row.path());
        if (row.contentType() != null) {
            r.header("Content-Type", row.contentType());
        }
        r.method(row.method(), row.body() == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(row.body()));
        HttpResponse<String> resp = server.send(r);
        assertEquals(row.status(), resp.statusCode(), resp.body());
        JsonNode error = JSON.readTree(resp.body()).get("error");
        assertEquals(row.param(), error.get("param").isNull() ? null : error.get("param").asText(), resp.body());
        assertTrue(error.has("code") && error.has("type") && !error.get("message").asText().isBlank(), resp.body());
        assertTrue(resp.headers().firstValue("x-request-id").isPresent());
        assertEquals(before, fileIds(), "the file list is unchanged");
        assertEquals(List.of(), entries(dataDir.resolve("tmp")), "no partial upload is left");
        assertEquals(before.size(), entries(dataDir.resolve("files")).size(), "no stray stored file");
        assertEquals(List.of(), server.service.batches().list().data(), "no batch was created");
    }

    /** Requests Jetty refuses itself, before any route runs, with any method. */
    static Stream<org.junit.jupiter.params.provider.Arguments> malformedRequests() {
        return Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("DELETE /v1/files/x HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Length: abc\r\n\r\n", 400),
                org.junit.jupiter.params.provider.Arguments.of("PUT /v1/files HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
                org.junit.jupiter.params.provider.Arguments.of("OPTIONS /v1/files HTTP/1.1\r\n\r\n", 400),
                org.junit.jupiter.params.provider.Arguments.of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 426),
                org.junit.jupiter.params.provider.Arguments.of("GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Big: "
                        + "a".repeat(40_000) + "\r\n\r\n", 431));
    }

    @ParameterizedTest
    @MethodSource("malformedRequests")
    void jettysOwnRefusalsCarryTheEnvelopeAndARequestId(String request, int status) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
            assertTrue(response.toLowerCase().contains("x-request-id: req_"), response);
            assertTrue(response.toLowerCase().contains("content-type: application/json"), response);
            JsonNode error = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)).get("error");
            assertEquals("http_" + status, error.get("code").asText(), response);
            assertTrue(error.has("param") && error.has("type") && !error.get("message").asText().isBlank(), response);
        }
    }

    private List<String> fileIds() {
        return server.service.files().list().data().stream().map(io.batchllm.FileObject::id).toList();
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
