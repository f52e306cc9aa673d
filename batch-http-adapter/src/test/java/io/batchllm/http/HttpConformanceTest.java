package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.http.auth.AuthenticationException;
import io.batchllm.http.auth.KeyedRequestLimiter;
import io.batchllm.http.auth.Principal;
import io.batchllm.http.auth.Role;
import io.batchllm.ratelimit.RateLimitDecision;
import io.batchllm.testing.MutableClock;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transport rows C2–C9 and the HTTP-only behaviour: envelopes, headers, 404/405, tenancy, roles, 429. */
class HttpConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LINE = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";

    @TempDir
    Path dir;

    static HttpRequest.BodyPublisher form(String boundary, String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append("--").append(boundary).append("\r\n").append(p).append("\r\n");
        }
        sb.append("--").append(boundary).append("--\r\n");
        return HttpRequest.BodyPublishers.ofString(sb.toString());
    }

    static String filePart(String name, String content) {
        return "Content-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + content;
    }

    static String field(String name, String value) {
        return "Content-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value;
    }

    static HttpRequest.Builder upload(TestServer s, String auth, String purposeFirstOrLast, String content) {
        String b = "XyZ-boundary";
        HttpRequest.BodyPublisher body = purposeFirstOrLast.equals("first")
                ? form(b, field("purpose", "batch"), filePart("in.jsonl", content))
                : form(b, filePart("in.jsonl", content), field("purpose", "batch"));
        HttpRequest.Builder r = s.request("/v1/files").header("Content-Type", "multipart/form-data; boundary=" + b)
                .POST(body);
        return auth == null ? r : r.header("Authorization", auth);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static void assertEnvelope(HttpResponse<String> r, int status, String param) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        assertTrue(r.headers().firstValue("x-request-id").orElseThrow().startsWith("req_"));
        JsonNode e = json(r).get("error");
        for (String key : List.of("message", "type", "param", "code")) {
            assertTrue(e.has(key), "error has " + key + ": " + r.body());
        }
        assertEquals(param, e.get("param").isNull() ? null : e.get("param").asText(), r.body());
    }

    @Test
    void uploadsStreamWhicheverFieldComesFirstAndEveryResponseHasARequestId() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            for (String order : List.of("first", "last")) {
                HttpResponse<String> r = s.send(upload(s, null, order, LINE));
                assertEquals(200, r.statusCode(), r.body());
                JsonNode f = json(r);
                assertEquals(LINE.length(), f.get("bytes").asInt());
                assertTrue(f.get("created_at").isIntegralNumber());
                assertEquals("processed", f.get("status").asText());
                HttpResponse<String> content = s.send(s.request("/v1/files/" + f.get("id").asText() + "/content"));
                assertEquals(LINE, content.body());
                assertTrue(content.headers().firstValue("x-request-id").isPresent());
            }
            try (var spool = java.nio.file.Files.list(dir.resolve("tmp"))) {
                assertEquals(List.of(), spool.toList(), "spooled uploads are deleted");
            }
        }
    }

    @Test
    void theCurlExampleOrderPurposeFileThenExpiryIsAccepted() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            String b = "curl-order";
            HttpResponse<String> r = s.send(s.request("/v1/files")
                    .header("Content-Type", "multipart/form-data; boundary=" + b)
                    .POST(form(b, field("purpose", "batch"), filePart("in.jsonl", LINE),
                            field("expires_after[anchor]", "created_at"), field("expires_after[seconds]", "3600"))));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode f = json(r);
            assertEquals(f.get("created_at").asLong() + 3600, f.get("expires_at").asLong());
            assertEquals(200, s.send(s.request("/v1/files/" + f.get("id").asText())).statusCode());
        }
    }

    /**
     * The upload is answered only once its body has ended, and what was answered stays stored: the
     * server once answered at the closing boundary, then failed on the unread epilogue and deleted
     * the file it had just reported.
     */
    @Test
    void anUploadIsAnsweredOnlyAfterItsWholeBodyAndStaysStored() throws Exception {
        try (TestServer s = new TestServer(dir); Socket socket = new Socket("127.0.0.1", s.server.port())) {
            String b = "epilogue";
            String form = "--" + b + "\r\n" + filePart("in.jsonl", LINE) + "\r\n--" + b + "\r\n"
                    + field("purpose", "batch") + "\r\n--" + b + "--";
            String epilogue = "\r\n";
            byte[] body = form.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Content-Type: multipart/form-data; boundary=" + b
                    + "\r\nContent-Length: " + (body.length + epilogue.length()) + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(500);
            boolean answeredEarly;
            try {
                answeredEarly = in.read() >= 0;
            } catch (SocketTimeoutException expected) {
                answeredEarly = false;
            }
            out.write(epilogue.getBytes(StandardCharsets.UTF_8));
            out.flush();
            socket.setSoTimeout(30_000);
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            Matcher id = Pattern.compile("\"id\":\"(file-[^\"]+)\"").matcher(response);
            assertTrue(id.find(), response);
            assertFalse(answeredEarly, "answered before the body ended: " + response);
            assertEquals(200, s.send(s.request("/v1/files/" + id.group(1))).statusCode(), "the file answered 200 "
                    + "is still stored");
        }
    }

    @Test
    void pagingWithTheLastIdEndsOnAnEmptyPageNot404() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            String id = json(s.send(upload(s, null, "first", LINE))).get("id").asText();
            JsonNode page = json(s.send(s.request("/v1/files?after=" + id)));
            assertEquals(0, page.get("data").size());
            assertFalse(page.get("has_more").asBoolean());
            assertEquals("", page.get("first_id").asText());
            JsonNode batches = json(s.send(s.request("/v1/batches?limit=5")));
            assertEquals("list", batches.get("object").asText());
        }
    }

    @Test
    void unknownRoutesAre404AndWrongMethods405WithAllow() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            HttpResponse<String> unknown = s.send(s.request("/v1/nothing"));
            assertEnvelope(unknown, 404, null);
            assertEquals(Optional.of("false"), unknown.headers().firstValue("x-should-retry"));
            HttpResponse<String> wrong = s.send(s.request("/v1/batches/batch_x").DELETE());
            assertEnvelope(wrong, 405, null);
            assertEquals(Optional.of("GET"), wrong.headers().firstValue("allow"));
            HttpResponse<String> missing = s.send(s.request("/v1/batches/batch_nope"));
            assertEnvelope(missing, 404, "id");
            assertEquals("No such Batch object: batch_nope", json(missing).at("/error/message").asText());
        }
    }

    @Test
    void healthReadyModelsAndMetrics() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            assertEquals(200, s.send(s.request("/health")).statusCode());
            JsonNode ready = json(s.send(s.request("/ready")));
            assertEquals("ready", ready.get("status").asText());
            JsonNode models = json(s.send(s.request("/v1/models")));
            assertEquals("list", models.get("object").asText());
            assertEquals("test-model", models.at("/data/0/id").asText());
            assertEquals("model", models.at("/data/0/object").asText());
            assertEnvelope(s.send(s.request("/v1/models/gpt-9")), 404, "model");
            HttpResponse<String> metrics = s.send(s.request("/metrics"));
            assertTrue(metrics.headers().firstValue("content-type").orElseThrow().startsWith("text/plain"));
            assertTrue(metrics.body().contains("batchllm_requests_in_flight"), metrics.body());
        }
    }

    @Test
    void unknownMethodsShareOneMetricLabelInsteadOfAddingSeries() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            for (int i = 0; i < 30; i++) {
                assertEquals(405, s.send(s.request("/v1/files").method("BREW" + i,
                        HttpRequest.BodyPublishers.noBody())).statusCode());
            }
            assertEquals(200, s.send(s.request("/v1/files")).statusCode());
            Set<String> methods = new TreeSet<>();
            Matcher m = Pattern.compile("http_server_requests_seconds_count\\{[^}]*method=\"([^\"]*)\"")
                    .matcher(s.send(s.request("/metrics")).body());
            while (m.find()) {
                methods.add(m.group(1));
            }
            assertEquals(Set.of("GET", "other"), methods);
        }
    }

    @Test
    void healthReadyAndMetricsAreNeverRateLimited() throws Exception {
        RequestLimiter refuseEveryone = (p, address, tokens) -> new RequestLimiter.Decision(false,
                new RateLimitDecision(false, 1, 0, Duration.ofMinutes(1)), null, tokens);
        try (TestServer s = new TestServer(dir, b -> b.authenticator(io.batchllm.http.auth.Authenticator.none())
                .requestLimiter(refuseEveryone))) {
            for (int i = 0; i < 5; i++) {
                for (String path : List.of("/health", "/ready", "/metrics")) {
                    assertEquals(200, s.send(s.request(path)).statusCode(), path);
                }
            }
            assertEnvelope(s.send(s.request("/v1/files")), 429, null);
        }
    }

    @Test
    void failedAuthenticationsAreRateLimitedPerClientAddress() throws Exception {
        KeyedRequestLimiter limiter = KeyedRequestLimiter.perMinute(5, 1_000, new MutableClock(Instant.EPOCH));
        try (TestServer s = new TestServer(dir, b -> b.authenticator(HttpConformanceTest::principal)
                .requestLimiter(limiter))) {
            for (int i = 0; i < 5; i++) {
                assertEnvelope(s.send(s.request("/v1/files").header("Authorization", "Bearer guess-" + i)), 401, null);
            }
            HttpResponse<String> throttled = s.send(s.request("/v1/files").header("Authorization", "Bearer guess-5"));
            assertEnvelope(throttled, 429, null);
            assertEquals("rate_limit_exceeded", json(throttled).at("/error/code").asText());
            assertTrue(Long.parseLong(throttled.headers().firstValue("retry-after").orElseThrow()) >= 1);
            assertEquals(200, s.send(s.request("/v1/files").header("Authorization", "Bearer acme:MEMBER"))
                    .statusCode(), "a valid key counts against its own allowance, not the address's");
        }
    }

    @Test
    void aFailingJobStoreIsAGeneric500AndAnHonest503WithoutSqlOrDriverText() throws Exception {
        try (TestServer s = new TestServer(dir)) {
            String id = json(s.send(upload(s, null, "first", LINE))).get("id").asText();
            // Every query on these tables now fails in the driver, with the SQL in its message.
            renameTables(s, "", "_gone");
            HttpResponse<String> get = s.send(s.request("/v1/files/" + id));
            assertEnvelope(get, 500, null);
            assertEquals("store_error", json(get).at("/error/code").asText());
            String requestId = get.headers().firstValue("x-request-id").orElseThrow();
            assertTrue(json(get).at("/error/message").asText().contains(requestId), get.body());
            HttpResponse<String> ready = s.send(s.request("/ready"));
            assertEnvelope(ready, 503, null);
            for (HttpResponse<String> r : List.of(get, ready)) {
                String body = r.body().toLowerCase();
                for (String leak : List.of("sql", "select", "database", "h2", "jdbc", "exception")) {
                    assertFalse(body.contains(leak), "'" + leak + "' in " + r.body());
                }
            }
            renameTables(s, "_gone", "");
            assertEquals(200, s.send(s.request("/v1/files/" + id)).statusCode(), "the store answers again");
        }
    }

    private static void renameTables(TestServer s, String from, String to) throws Exception {
        try (var c = ((io.batchllm.store.JdbcJobStore) s.service.jobStore()).dataSource().getConnection();
             var st = c.createStatement()) {
            for (String table : List.of("files", "batches")) {
                st.execute("ALTER TABLE " + table + from + " RENAME TO " + table + to);
            }
        }
    }

    /** Keys of the form {@code tenant:role}; anything else is refused. */
    private static Principal principal(String header) {
        if (header == null || !header.startsWith("Bearer ") || !header.contains(":")) {
            throw new AuthenticationException("Incorrect API key provided");
        }
        String[] parts = header.substring(7).split(":");
        return new Principal(parts[0] + "-key", parts[0], Role.valueOf(parts[1]));
    }

    @Test
    void tenantsSeeOnlyTheirOwnObjectsAndReadersCannotWrite() throws Exception {
        try (TestServer s = new TestServer(dir, b -> b.authenticator(HttpConformanceTest::principal))) {
            assertEnvelope(s.send(s.request("/v1/files")), 401, null);
            HttpResponse<String> up = s.send(upload(s, "Bearer acme:MEMBER", "first", LINE));
            String id = json(up).get("id").asText();

            HttpResponse<String> other = s.send(s.request("/v1/files/" + id).header("Authorization", "Bearer globex:MEMBER"));
            assertEnvelope(other, 404, "id");
            JsonNode globexList = json(s.send(s.request("/v1/files").header("Authorization", "Bearer globex:MEMBER")));
            assertEquals(0, globexList.get("data").size());
            assertEquals(200, s.send(s.request("/v1/files/" + id).header("Authorization", "Bearer acme:READER"))
                    .statusCode());
            assertEquals(200, s.send(s.request("/v1/files/" + id).header("Authorization", "Bearer root:ADMIN"))
                    .statusCode());
            assertEnvelope(s.send(upload(s, "Bearer acme:READER", "first", LINE)), 403, null);
            assertEquals(1, s.service.files().list().data().size(), "the refused upload stored nothing");
        }
    }

    @Test
    void aRefusalOfTheLimiterIs429WithRetryAfterAndRateLimitHeaders() throws Exception {
        RequestLimiter refuseBatches = (p, address, tokens) -> tokens > 0
                ? new RequestLimiter.Decision(false, new RateLimitDecision(true, 100, 99, Duration.ofSeconds(1)),
                        new RateLimitDecision(false, 10, 0, Duration.ofSeconds(90)), tokens)
                : new RequestLimiter.Decision(true, new RateLimitDecision(true, 100, 99, Duration.ofSeconds(1)), null, 0);
        try (TestServer s = new TestServer(dir, b -> b.authenticator(io.batchllm.http.auth.Authenticator.none())
                .requestLimiter(refuseBatches))) {
            HttpResponse<String> up = s.send(upload(s, null, "first", LINE));
            assertEquals(Optional.of("100"), up.headers().firstValue("x-ratelimit-limit-requests"));
            assertEquals(Optional.of("1s"), up.headers().firstValue("x-ratelimit-reset-requests"));
            String id = json(up).get("id").asText();
            HttpResponse<String> r = s.send(s.request("/v1/batches").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"input_file_id\":\"" + id + "\",\"endpoint\":"
                            + "\"/v1/chat/completions\",\"completion_window\":\"24h\"}")));
            assertEnvelope(r, 429, null);
            assertEquals("rate_limit_exceeded", json(r).at("/error/code").asText());
            assertEquals(Optional.of("90"), r.headers().firstValue("retry-after"));
            assertEquals(Optional.of("1m30s"), r.headers().firstValue("x-ratelimit-reset-tokens"));
            assertEquals(List.of(), s.service.batches().list().data());
        }
    }
}
