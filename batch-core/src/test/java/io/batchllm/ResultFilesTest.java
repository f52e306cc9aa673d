package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.store.BatchRecord;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.Poll;
import io.batchllm.testing.TestBackend;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The output and error files (conformance rows O1 to O6, B15, and F9 for result files). Results are
 * always compared as sets joined on custom_id: the files promise no order (O5).
 */
class ResultFilesTest {
    private static final String HOLD = "\"test_hold\":true";

    @TempDir
    Path dir;

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static Map<String, JsonNode> byCustomId(List<JsonNode> lines) {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode line : lines) {
            assertNull(out.put(line.get("custom_id").asText(), line), "custom_id twice in one file: " + line);
        }
        return out;
    }

    private static Map<String, JsonNode> lines(Harness h, String fileId) {
        return fileId == null ? Map.of() : byCustomId(h.lines(fileId));
    }

    /** Two held lines, then plain ones, with at most two in flight, so the plain ones wait behind them. */
    private static String heldThenPlain(int n) {
        return Jsonl.chatLine("held-0", "h0", HOLD) + "\n" + Jsonl.chatLine("held-1", "h1", HOLD) + "\n"
                + Jsonl.chatLines(n);
    }

    private Harness twoInFlight() {
        return new Harness(dir, TestBackend.standard(), b -> b.maxInFlight(2));
    }

    @Test
    @DisplayName("O1: a success line is {id:batch_req_…, custom_id, response:{status_code:200, request_id, body}, error:null}")
    void successLineShape() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLine("only", "hi there") + "\n");
            JsonNode line = h.lines(b.outputFileId()).getFirst();
            assertEquals(Set.of("id", "custom_id", "response", "error"), keys(line));
            assertTrue(line.get("id").isTextual() && line.get("id").asText().startsWith("batch_req_"), line.toString());
            assertEquals("only", line.get("custom_id").asText());
            assertTrue(line.get("error").isNull());
            JsonNode response = line.get("response");
            assertEquals(Set.of("status_code", "request_id", "body"), keys(response));
            assertTrue(response.get("status_code").isInt());
            assertEquals(200, response.get("status_code").asInt());
            assertTrue(response.get("request_id").isTextual() && !response.get("request_id").asText().isEmpty());
            assertTrue(response.get("body").isObject());
            assertEquals("chat.completion", response.at("/body/object").asText());
            assertEquals("echo: hi there", response.at("/body/choices/0/message/content").asText());
        }
    }

    @Test
    @DisplayName("O2: an HTTP failure goes to the error file with response.body.error {message,type,param,code} and error:null")
    void httpFailureLineShape() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLine("bad", "x", "\"test_status\":400") + "\n"
                    + Jsonl.chatLine("down", "y", "\"test_status\":503") + "\n" + Jsonl.chatLine("ok", "z") + "\n");
            assertEquals(new RequestCounts(3, 1, 2), b.requestCounts());
            Map<String, JsonNode> errors = lines(h, b.errorFileId());
            assertEquals(Set.of("bad", "down"), errors.keySet());
            for (String id : errors.keySet()) {
                JsonNode line = errors.get(id);
                assertEquals(Set.of("id", "custom_id", "response", "error"), keys(line));
                assertTrue(line.get("id").asText().startsWith("batch_req_"));
                assertTrue(line.get("error").isNull(), "an HTTP failure has a response, so error is null");
                assertEquals(Set.of("status_code", "request_id", "body"), keys(line.get("response")));
                JsonNode error = line.at("/response/body/error");
                assertEquals(Set.of("message", "type", "param", "code"), keys(error), line.toString());
            }
            assertEquals(400, errors.get("bad").at("/response/status_code").asInt());
            assertEquals("invalid_request_error", errors.get("bad").at("/response/body/error/type").asText());
            assertEquals(503, errors.get("down").at("/response/status_code").asInt());
            assertEquals(Set.of("ok"), lines(h, b.outputFileId()).keySet());
        }
    }

    @Test
    @DisplayName("O3: a line that never ran is {response:null, error:{code, message}} with code batch_cancelled")
    void noResponseLineShape() throws Exception {
        try (Harness h = twoInFlight()) {
            Batch b = h.service.batches().create(h.upload(heldThenPlain(1)).id(), Endpoint.CHAT_COMPLETIONS);
            Poll.until("two held lines", () -> h.backend.heldCount() == 2);
            h.service.batches().cancel(b.id());
            h.backend.releaseHeld();
            Batch done = h.service.batches().await(b.id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.CANCELLED, done.status());
            JsonNode line = lines(h, done.errorFileId()).get("req-0");
            assertEquals(Set.of("id", "custom_id", "response", "error"), keys(line));
            assertTrue(line.get("id").asText().startsWith("batch_req_"));
            assertTrue(line.get("response").isNull());
            assertEquals(Set.of("code", "message"), keys(line.get("error")));
            assertEquals("batch_cancelled", line.at("/error/code").asText());
            assertTrue(!line.at("/error/message").asText().isBlank());
        }
    }

    @Test
    @DisplayName("O4: every one of 240 mixed lines appears exactly once across the output and error files")
    void everyLineExactlyOnce() throws Exception {
        try (Harness h = new Harness(dir)) {
            StringBuilder input = new StringBuilder();
            Set<String> expectOk = new TreeSet<>();
            Set<String> expect4xx = new TreeSet<>();
            Set<String> expectCrash = new TreeSet<>();
            for (int i = 0; i < 240; i++) {
                String id = "line-" + i;
                if (i % 7 == 0) {
                    input.append(Jsonl.chatLine(id, "c" + i, "\"test_throw\":true"));
                    expectCrash.add(id);
                } else if (i % 3 == 0) {
                    input.append(Jsonl.chatLine(id, "f" + i, "\"test_status\":422"));
                    expect4xx.add(id);
                } else {
                    input.append(Jsonl.chatLine(id, "s" + i));
                    expectOk.add(id);
                }
                input.append('\n');
            }
            Batch b = h.run(input.toString());
            assertEquals(BatchStatus.COMPLETED, b.status());
            assertEquals(new RequestCounts(240, expectOk.size(), expect4xx.size() + expectCrash.size()), b.requestCounts());

            List<JsonNode> out = h.lines(b.outputFileId());
            List<JsonNode> err = h.lines(b.errorFileId());
            List<String> all = new ArrayList<>();
            Set<String> requestIds = new HashSet<>();
            for (JsonNode line : out) {
                all.add(line.get("custom_id").asText());
                requestIds.add(line.get("id").asText());
            }
            for (JsonNode line : err) {
                all.add(line.get("custom_id").asText());
                requestIds.add(line.get("id").asText());
            }
            assertEquals(240, all.size(), "no line is lost or written twice");
            assertEquals(240, new HashSet<>(all).size());
            assertEquals(240, requestIds.size(), "each result line has its own batch_req id");

            assertEquals(expectOk, new TreeSet<>(lines(h, b.outputFileId()).keySet()));
            Map<String, JsonNode> errors = lines(h, b.errorFileId());
            Set<String> expectedErrors = new TreeSet<>(expect4xx);
            expectedErrors.addAll(expectCrash);
            assertEquals(expectedErrors, new TreeSet<>(errors.keySet()));
            for (String id : expect4xx) {
                assertEquals(422, errors.get(id).at("/response/status_code").asInt(), id);
            }
            for (String id : expectCrash) {
                JsonNode crash = errors.get(id);
                assertEquals(500, crash.at("/response/status_code").asInt(), "a backend crash is a 500 line: " + crash);
                assertEquals("server_error", crash.at("/response/body/error/type").asText());
            }
        }
    }

    @Test
    @DisplayName("O5: results join to their requests by custom_id, whatever the order of the file")
    void resultsJoinByCustomId() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLines(60));
            Map<String, JsonNode> out = lines(h, b.outputFileId());
            assertEquals(60, out.size());
            for (int i = 0; i < 60; i++) {
                assertEquals("echo: hello " + i, out.get("req-" + i).at("/response/body/choices/0/message/content").asText());
            }
        }
    }

    @Test
    @DisplayName("O6: an expired batch keeps finished lines in the output and marks unrun ones batch_expired")
    void expiredBatch() throws Exception {
        try (Harness h = twoInFlight()) {
            Batch b = h.service.batches().create(h.upload(heldThenPlain(4)).id(), Endpoint.CHAT_COMPLETIONS);
            Poll.until("two held lines", () -> h.backend.heldCount() == 2);
            h.clock.advance(Duration.ofHours(25));
            // Release the held lines only once the service has noticed the window passed; otherwise the
            // worker could start the waiting lines first and the expected split would be a race.
            Poll.until("the expiry to be noticed", () -> h.service.jobStore().findBatch(b.id())
                    .map(BatchRecord::stopReason).isPresent());
            h.backend.releaseHeld();
            Batch done = h.service.batches().await(b.id(), Duration.ofSeconds(30));

            assertEquals(BatchStatus.EXPIRED, done.status(), () -> done.toString());
            long now = Harness.START.plus(Duration.ofHours(25)).getEpochSecond();
            assertEquals(now, done.expiredAt());
            assertEquals(Harness.START.getEpochSecond(), done.inProgressAt(), "in_progress_at is kept");
            assertNull(done.completedAt());
            assertNull(done.cancelledAt());
            assertEquals(new RequestCounts(6, 2, 4), done.requestCounts());
            assertEquals(Set.of("held-0", "held-1"), lines(h, done.outputFileId()).keySet());
            Map<String, JsonNode> errors = lines(h, done.errorFileId());
            assertEquals(Set.of("req-0", "req-1", "req-2", "req-3"), errors.keySet());
            for (JsonNode line : errors.values()) {
                assertTrue(line.get("response").isNull(), line.toString());
                assertEquals("batch_expired", line.at("/error/code").asText());
            }
            assertEquals(2, h.backend.executed(), "the unrun lines never reached the backend");

            ConflictException e = assertThrows(ConflictException.class, () -> h.service.batches().cancel(b.id()));
            assertEquals("Cannot cancel a batch with status 'expired'.", e.getMessage());
        }
    }

    @Test
    @DisplayName("B15: no output file when no line succeeded; the error file is a processed batch_output file")
    void noOutputFileWhenNothingSucceeded() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLine("a", "1", "\"test_status\":400") + "\n"
                    + Jsonl.chatLine("b", "2", "\"test_status\":400") + "\n");
            assertEquals(BatchStatus.COMPLETED, b.status());
            assertEquals(new RequestCounts(2, 0, 2), b.requestCounts());
            assertNull(b.outputFileId());
            assertNotNull(b.errorFileId());
            FileObject err = h.service.files().get(b.errorFileId());
            assertEquals(FilePurpose.BATCH_OUTPUT, err.purpose());
            assertEquals("processed", err.status());
            assertEquals(b.id() + "_error.jsonl", err.filename());
            assertNull(err.expiresAt(), "without output_expires_after, result files never expire (F5)");
            assertEquals(Set.of("a", "b"), lines(h, b.errorFileId()).keySet());
        }
    }

    @Test
    @DisplayName("B15: no error file when no line failed; result files are listed under purpose batch_output")
    void noErrorFileWhenNothingFailed() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLines(3));
            assertNull(b.errorFileId());
            FileObject out = h.service.files().get(b.outputFileId());
            assertEquals(FilePurpose.BATCH_OUTPUT, out.purpose());
            assertEquals(b.id() + "_output.jsonl", out.filename(), "named once after the batch, not batch_batch_…");
            assertNull(out.expiresAt(), "without output_expires_after, result files never expire (F5)");
            Page<FileObject> listed = h.service.files().list(
                    new FileListQuery(FilePurpose.BATCH_OUTPUT, null, 100, ListOrder.DESC));
            assertEquals(List.of(out), listed.data());
        }
    }

    @Test
    @DisplayName("F9: output and error files download whole, and their size is the File object's bytes")
    void resultFilesAreDownloadable() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run(Jsonl.chatLines(20) + Jsonl.chatLine("x", "1", "\"test_status\":400") + "\n");
            for (String id : List.of(b.outputFileId(), b.errorFileId())) {
                FileObject f = h.service.files().get(id);
                byte[] bytes;
                try (InputStream in = h.service.files().content(id)) {
                    bytes = in.readAllBytes();
                }
                assertEquals(f.bytes(), bytes.length, id);
                String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(text.endsWith("\n"), "each line, the last included, ends with a newline");
                for (String line : text.split("\n")) {
                    Jsonl.JSON.readTree(line); // every line is one JSON object
                }
            }
            assertEquals(20, h.lines(b.outputFileId()).size());
            assertEquals(1, h.lines(b.errorFileId()).size());
        }
    }
}
