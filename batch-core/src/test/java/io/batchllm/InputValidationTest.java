package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation of batch input files (conformance rows I1 to I5): file-level errors fail the whole batch
 * after create, with 1-based line numbers; problems confined to one body fail only that line.
 */
class InputValidationTest {
    private static final String GOOD = Jsonl.chatLine("good", "fine");

    @TempDir
    Path dir;

    /** Runs {@code content} and checks the I2 shape of a validation failure. */
    private static Batch failed(Harness h, String content) throws InterruptedException {
        Batch created = h.service.batches().create(h.upload(content).id(), Endpoint.CHAT_COMPLETIONS);
        assertEquals(BatchStatus.VALIDATING, created.status(), "create succeeds; validation fails later");
        Batch b = h.service.batches().await(created.id(), Duration.ofSeconds(30));
        assertEquals(BatchStatus.FAILED, b.status(), () -> "expected a validation failure: " + b);
        assertNotNull(b.failedAt());
        assertNull(b.inProgressAt());
        assertNull(b.outputFileId(), "a failed batch has no output file");
        assertNull(b.errorFileId(), "a failed batch has no error file");
        assertNotNull(b.errors());
        assertTrue(!b.errors().data().isEmpty());
        return b;
    }

    /** The single error of a failed batch, checked for code, param and line. */
    private static BatchError onlyError(Harness h, String content, String code, String param, Long line)
            throws InterruptedException {
        Batch b = failed(h, content);
        assertEquals(1, b.errors().data().size(), () -> b.errors().toString());
        BatchError e = b.errors().data().getFirst();
        assertEquals(code, e.code(), e::toString);
        assertEquals(param, e.param(), e::toString);
        assertEquals(line, e.line(), e::toString);
        assertTrue(e.message() != null && !e.message().isBlank());
        return e;
    }

    private static String line(String customId, String method, String url, String body) {
        StringBuilder sb = new StringBuilder("{");
        if (customId != null) {
            sb.append("\"custom_id\":\"").append(customId).append("\",");
        }
        if (method != null) {
            sb.append("\"method\":\"").append(method).append("\",");
        }
        if (url != null) {
            sb.append("\"url\":\"").append(url).append("\",");
        }
        return sb.append("\"body\":").append(body).append("}").toString();
    }

    private static final String BODY = "{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /** The error-file lines of a batch, by custom_id. */
    private static Map<String, JsonNode> errorLines(Harness h, Batch b) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (JsonNode line : h.lines(b.errorFileId())) {
            out.put(line.get("custom_id").asText(), line);
        }
        return out;
    }

    @Test
    @DisplayName("I1: a line missing custom_id, method or url fails the batch naming that field and line")
    void requiredLineFieldsAreChecked() throws Exception {
        try (Harness h = new Harness(dir)) {
            onlyError(h, GOOD + "\n" + line(null, "POST", "/v1/chat/completions", BODY) + "\n",
                    "missing_required_parameter", "custom_id", 2L);
            onlyError(h, GOOD + "\n" + line("x", null, "/v1/chat/completions", BODY) + "\n",
                    "missing_required_parameter", "method", 2L);
            onlyError(h, GOOD + "\n" + line("x", "POST", null, BODY) + "\n", "missing_required_parameter", "url", 2L);
            onlyError(h, "{\"custom_id\":7,\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":" + BODY + "}\n",
                    "invalid_custom_id", "custom_id", 1L);
            Batch ok = h.run(line("x", "POST", "/v1/chat/completions", BODY) + "\n");
            assertEquals(BatchStatus.COMPLETED, ok.status(), "a line with all four fields runs");
        }
    }

    @Test
    @DisplayName("I1: method GET fails the batch naming method")
    void methodMustBePost() throws Exception {
        try (Harness h = new Harness(dir)) {
            onlyError(h, line("x", "GET", "/v1/chat/completions", BODY) + "\n", "invalid_method", "method", 1L);
        }
    }

    @Test
    @DisplayName("I2: a file-level error fails the batch with failed_at, every bad line listed 1-based, no result files")
    void fileLevelErrorsAreListedWithLineNumbers() throws Exception {
        try (Harness h = new Harness(dir)) {
            h.clock.advance(Duration.ofSeconds(5));
            Batch b = failed(h, Jsonl.chatLine("a", "x") + "\n{bad\n" + Jsonl.chatLine("b", "y") + "\nalso bad\n");
            assertEquals(Harness.START.getEpochSecond() + 5, b.failedAt());
            assertEquals(List.of(2L, 4L), b.errors().data().stream().map(BatchError::line).toList());
            for (BatchError e : b.errors().data()) {
                assertEquals("invalid_json_line", e.code());
                assertNull(e.param());
            }
            assertEquals(0, h.backend.executed(), "no line of a failed batch runs");
        }
    }

    @Test
    @DisplayName("I3: unparseable lines, JSON arrays and trailing garbage are invalid_json_line")
    void invalidJsonLine() throws Exception {
        try (Harness h = new Harness(dir)) {
            for (String bad : List.of("{not json", "[1,2,3]", "\"a string\"", "42", GOOD.replace("\"good\"", "\"g2\"") + " x",
                    GOOD.replace("\"good\"", "\"g2\"") + GOOD.replace("\"good\"", "\"g3\""))) {
                BatchError e = onlyError(h, GOOD + "\n" + bad + "\n", "invalid_json_line", null, 2L);
                assertTrue(e.message().startsWith("This line is not parseable as valid JSON."), e.message());
            }
        }
    }

    @Test
    @DisplayName("I3: a repeated custom_id is duplicate_custom_id at the line of its second occurrence")
    void duplicateCustomId() throws Exception {
        try (Harness h = new Harness(dir)) {
            onlyError(h, Jsonl.chatLine("a", "1") + "\n" + Jsonl.chatLine("b", "2") + "\n" + Jsonl.chatLine("a", "3") + "\n",
                    "duplicate_custom_id", "custom_id", 3L);
        }
    }

    @Test
    @DisplayName("I3: a line whose url differs from the batch endpoint is url_mismatch")
    void urlMismatch() throws Exception {
        try (Harness h = new Harness(dir)) {
            onlyError(h, GOOD + "\n" + line("c", "POST", "/v1/completions", "{\"model\":\"test-model\",\"prompt\":\"p\"}") + "\n",
                    "url_mismatch", "url", 2L);
        }
    }

    @Test
    @DisplayName("I3: a second model in the file is model_mismatch; a model not served is model_not_found")
    void modelChecks() throws Exception {
        TestBackend twoModels = new TestBackend(java.util.Set.of("test-model", "other-model"), 8);
        try (Harness h = new Harness(dir, twoModels, b -> b)) {
            onlyError(h, GOOD + "\n" + GOOD.replace("\"good\"", "\"o\"").replace("test-model", "other-model") + "\n",
                    "model_mismatch", "body.model", 2L);
            onlyError(h, GOOD.replace("test-model", "gpt-4o") + "\n", "model_not_found", "body.model", 1L);
        }
    }

    @Test
    @DisplayName("I3: an empty file and a whitespace-only file are empty_file")
    void emptyFile() throws Exception {
        try (Harness h = new Harness(dir)) {
            onlyError(h, "", "empty_file", null, null);
            onlyError(h, "\n  \n\t\r\n\r\n", "empty_file", null, null);
        }
    }

    @Test
    @DisplayName("I3: more lines than the per-batch limit is too_many_tasks; blank lines do not count")
    void tooManyTasks() throws Exception {
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.maxRequestsPerBatch(5))) {
            Batch five = h.run("\n" + Jsonl.chatLines(5).replace("\n", "\n\n"));
            assertEquals(BatchStatus.COMPLETED, five.status(), () -> five.toString());
            assertEquals(5, five.requestCounts().total());
            BatchError e = failed(h, Jsonl.chatLines(6)).errors().data().getFirst();
            assertEquals("too_many_tasks", e.code());
        }
    }

    @Test
    @DisplayName("I3/I4: the real limit of 50,000 requests, exceeded by one line, is too_many_tasks")
    void realRequestLimit() throws Exception {
        Path input = dir.resolve("big.jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
            for (int i = 0; i <= BatchService.Builder.DEFAULT_MAX_REQUESTS_PER_BATCH; i++) {
                w.write(Jsonl.chatLine("r" + i, "m"));
                w.write('\n');
            }
        }
        try (Harness h = new Harness(dir.resolve("data"))) {
            FileObject f = h.service.files().upload(input, FilePurpose.BATCH);
            assertEquals(Files.size(input), f.bytes());
            Batch b = h.service.batches().await(h.service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS).id(),
                    Duration.ofSeconds(60));
            assertEquals(BatchStatus.FAILED, b.status(), () -> b.toString());
            assertEquals("too_many_tasks", b.errors().data().getFirst().code());
            assertEquals(50_001L, b.errors().data().getFirst().line());
            assertEquals(0, h.backend.executed());
        }
    }

    @Test
    @DisplayName("I4: an input file over the batch byte limit when the batch is validated fails with file_too_large")
    void fileOverTheByteLimitAtValidation() throws Exception {
        // The upload cap and the validation limit are the same setting, so the only honest way to reach
        // the validation check is a file stored under a larger cap: upload, then reopen the data
        // directory with a smaller limit (as after an operator lowers it).
        String content = Jsonl.chatLines(3);
        String fileId;
        try (Harness before = new Harness(dir)) {
            fileId = before.upload(content).id();
        }
        try (Harness after = new Harness(dir, TestBackend.standard(), b -> b.maxBatchFileBytes(100))) {
            Batch b = after.service.batches().await(
                    after.service.batches().create(fileId, Endpoint.CHAT_COMPLETIONS).id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.FAILED, b.status(), () -> b.toString());
            assertEquals(1, b.errors().data().size());
            BatchError e = b.errors().data().getFirst();
            assertEquals("file_too_large", e.code());
            assertNull(e.line());
            assertTrue(e.message().contains(String.valueOf(content.length())), e.message());
            assertEquals(0, after.backend.executed());
        }
    }

    @Test
    @DisplayName("I5: a stream:true line fails alone with 400 naming stream while the other lines succeed")
    void streamingLineFailsAlone() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLine("a", "1") + "\n" + Jsonl.chatLine("s", "2", "\"stream\":true") + "\n"
                    + Jsonl.chatLine("f", "3", "\"stream\":false") + "\n");
            assertEquals(BatchStatus.COMPLETED, b.status());
            assertEquals(new RequestCounts(3, 2, 1), b.requestCounts());
            JsonNode s = errorLines(h, b).get("s");
            assertEquals(400, s.at("/response/status_code").asInt());
            assertEquals("stream", s.at("/response/body/error/param").asText());
            assertEquals("invalid_request_error", s.at("/response/body/error/type").asText());
            assertTrue(s.get("error").isNull());
            assertEquals(2, h.lines(b.outputFileId()).size());
        }
    }

    @Test
    @DisplayName("I5: a body that is not an object, or has no model, fails that line alone with 400")
    void badBodyFailsAlone() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(GOOD + "\n" + line("str", "POST", "/v1/chat/completions", "\"hello\"") + "\n"
                    + line("arr", "POST", "/v1/chat/completions", "[1]") + "\n"
                    + line("nomodel", "POST", "/v1/chat/completions", "{\"messages\":[]}") + "\n"
                    + "{\"custom_id\":\"nobody\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\"}\n");
            assertEquals(BatchStatus.COMPLETED, b.status(), () -> b.toString());
            assertEquals(new RequestCounts(5, 1, 4), b.requestCounts());
            Map<String, JsonNode> errors = errorLines(h, b);
            assertEquals(List.of("arr", "nobody", "nomodel", "str"), List.copyOf(errors.keySet()));
            for (JsonNode e : errors.values()) {
                assertEquals(400, e.at("/response/status_code").asInt(), e.toString());
            }
            assertEquals("body", errors.get("str").at("/response/body/error/param").asText());
            assertEquals("model", errors.get("nomodel").at("/response/body/error/param").asText());
            assertEquals(1, h.backend.executed(), "only the good line reached the backend");
        }
    }

    @Test
    @DisplayName("I5: blank lines, CRLF line endings and a missing or present trailing newline are tolerated")
    void blankLinesAndCrlfAreTolerated() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run("\n" + Jsonl.chatLine("a", "1") + "\r\n\r\n" + Jsonl.chatLine("b", "2") + "\r\n   \n"
                    + Jsonl.chatLine("c", "3"));
            assertEquals(BatchStatus.COMPLETED, b.status(), () -> b.toString());
            assertEquals(new RequestCounts(3, 3, 0), b.requestCounts());
            String echoed = h.lines(b.outputFileId()).stream()
                    .filter(l -> l.get("custom_id").asText().equals("c")).findFirst().orElseThrow()
                    .at("/response/body/choices/0/message/content").asText();
            assertEquals("echo: 3", echoed, "the last line without a newline is read whole");

            // Line numbers still count blank and CRLF lines.
            onlyError(h, Jsonl.chatLine("a", "1") + "\r\n\r\n{bad\r\n", "invalid_json_line", null, 3L);
        }
    }

    @Test
    @DisplayName("I2: a file with more than 100 bad lines lists the first 100 and counts the rest")
    void errorListIsCapped() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = failed(h, "{bad\n".repeat(150));
            List<BatchError> errors = b.errors().data();
            assertEquals(101, errors.size());
            assertEquals(100L, errors.get(99).line());
            BatchError last = errors.getLast();
            assertEquals("too_many_errors", last.code());
            assertTrue(last.message().startsWith("50 "), last.message());
        }
    }

    @Test
    @DisplayName("I4: a line longer than the line limit fails the batch with line_too_long at that line")
    void lineTooLong() throws Exception {
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.maxLineBytes(300))) {
            onlyError(h, GOOD + "\n" + Jsonl.chatLine("long", "x".repeat(400)) + "\n" + Jsonl.chatLine("after", "y") + "\n",
                    "line_too_long", null, 2L);
        }
    }

    @Test
    @DisplayName("I4: more than 50,000 embedding inputs across the lines fails the batch; token arrays count once")
    void embeddingInputsAreCountedAcrossLines() throws Exception {
        String strings = "[" + String.join(",", java.util.Collections.nCopies(20_000, "\"a\"")) + "]";
        String tokens = "[" + String.join(",", java.util.Collections.nCopies(30_000, "7")) + "]";
        try (Harness h = new Harness(dir)) {
            // 20,000 + 20,000 + 1 (one token array) = 40,001 inputs: accepted.
            String ok = line("e1", "POST", "/v1/embeddings", "{\"model\":\"test-model\",\"input\":" + strings + "}") + "\n"
                    + line("e2", "POST", "/v1/embeddings", "{\"model\":\"test-model\",\"input\":" + strings + "}") + "\n"
                    + line("e3", "POST", "/v1/embeddings", "{\"model\":\"test-model\",\"input\":" + tokens + "}") + "\n";
            Batch accepted = h.service.batches().create(h.upload(ok).id(), Endpoint.EMBEDDINGS);
            Batch done = h.service.batches().await(accepted.id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.COMPLETED, done.status(), () -> String.valueOf(done.errors()));

            // A third array of 20,000 strings makes 60,000: the batch fails on that line.
            String tooMany = ok + line("e4", "POST", "/v1/embeddings", "{\"model\":\"test-model\",\"input\":" + strings + "}") + "\n";
            Batch created = h.service.batches().create(h.upload(tooMany).id(), Endpoint.EMBEDDINGS);
            Batch b = h.service.batches().await(created.id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.FAILED, b.status());
            BatchError e = b.errors().data().getFirst();
            assertEquals("too_many_tasks", e.code());
            assertEquals("body.input", e.param());
            assertEquals(4L, e.line());
        }
    }

    @Test
    @DisplayName("B2: a metadata entry without a value is a 400 naming metadata, not a crash")
    void metadataWithANullValueIsRefused() {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        m.put("k", null);
        io.batchllm.InvalidRequestException ex = org.junit.jupiter.api.Assertions.assertThrows(
                io.batchllm.InvalidRequestException.class,
                () -> BatchCreateRequest.of("file-x", Endpoint.CHAT_COMPLETIONS).withMetadata(m));
        assertEquals("metadata", ex.param());
    }
}
