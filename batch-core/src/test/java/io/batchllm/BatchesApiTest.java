package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.testing.Expect;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.Poll;
import io.batchllm.testing.TestBackend;
import io.batchllm.store.JdbcJobStore;
import io.batchllm.store.JobStore;
import io.batchllm.store.RequestRow;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Batches API through {@link BatchOperations}: conformance rows B1 to B16. */
class BatchesApiTest {
    private static final long START_SECONDS = Harness.START.getEpochSecond();
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final String HOLD = "\"test_hold\":true";

    @TempDir
    Path dir;

    private static Batch create(Harness h, String content) {
        return h.service.batches().create(h.upload(content).id(), Endpoint.CHAT_COMPLETIONS);
    }

    private static Batch await(Harness h, Batch b) throws InterruptedException {
        Batch done = h.service.batches().await(b.id(), AWAIT);
        assertTrue(done.status().isTerminal(), "batch did not finish: " + done);
        return done;
    }

    /** Creates a batch and returns once {@code held} of its lines are held in the backend. */
    private static Batch startHeld(Harness h, String content, int held) {
        Batch b = create(h, content);
        Poll.until(held + " held lines", () -> h.backend.heldCount() == held);
        return b;
    }

    /** Two held lines {@code held-0}, {@code held-1}, then {@code n} plain lines {@code req-0…}. */
    private static String heldThenPlain(int n) {
        return Jsonl.chatLine("held-0", "h0", HOLD) + "\n" + Jsonl.chatLine("held-1", "h1", HOLD) + "\n"
                + Jsonl.chatLines(n);
    }

    /** At most two lines in flight, so lines after the two held ones stay unrun until they are released. */
    private Harness twoInFlight() {
        return new Harness(dir, TestBackend.standard(), b -> b.maxInFlight(2));
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static Set<String> customIds(Harness h, String fileId) {
        Set<String> out = new TreeSet<>();
        for (JsonNode line : h.lines(fileId)) {
            out.add(line.get("custom_id").asText());
        }
        return out;
    }

    private static void assertCountsAddUp(Batch b) {
        RequestCounts c = b.requestCounts();
        assertEquals(c.total(), c.completed() + c.failed(), b.status().wire() + ": " + c);
    }

    @Test
    @DisplayName("B1: an endpoint no backend serves is a 400 naming endpoint; unknown paths are refused too")
    void unservedEndpointIsRefused() {
        try (Harness h = new Harness(dir)) {
            String file = h.upload(Jsonl.chatLines(1)).id();
            for (Endpoint e : List.of(Endpoint.RESPONSES, Endpoint.MODERATIONS, Endpoint.IMAGES_GENERATIONS,
                    Endpoint.IMAGES_EDITS, Endpoint.VIDEOS)) {
                Expect.badRequest("endpoint", () -> h.service.batches().create(file, e));
            }
            Expect.badRequest("endpoint", () -> Endpoint.fromPath("/v1/chat/completion"));
            assertEquals(Endpoint.EMBEDDINGS, Endpoint.fromPath("/v1/embeddings"));
            assertTrue(h.service.batches().list().data().isEmpty(), "a refused create stores no batch");
            assertEquals("/v1/chat/completions", h.service.batches().create(file, Endpoint.CHAT_COMPLETIONS).endpoint());
        }
    }

    @Test
    @DisplayName("B1: completion_window other than 24h is a 400 naming completion_window")
    void onlyThe24hWindowIsAccepted() {
        try (Harness h = new Harness(dir)) {
            String file = h.upload(Jsonl.chatLines(1)).id();
            for (String w : List.of("48h", "1h", "24", "")) {
                Expect.badRequest("completion_window", () -> h.service.batches().create(
                        BatchCreateRequest.of(file, Endpoint.CHAT_COMPLETIONS).withCompletionWindow(w)));
            }
            assertEquals("24h", h.service.batches().create(
                    BatchCreateRequest.of(file, Endpoint.CHAT_COMPLETIONS).withCompletionWindow(null)).completionWindow());
        }
    }

    @Test
    @DisplayName("B2: metadata allows 16 pairs, 64-char keys and 512-char values; more is a 400 naming metadata")
    void metadataLimits() {
        try (Harness h = new Harness(dir)) {
            String file = h.upload(Jsonl.chatLines(1)).id();
            BatchCreateRequest base = BatchCreateRequest.of(file, Endpoint.CHAT_COMPLETIONS);
            Map<String, String> sixteen = new HashMap<>();
            for (int i = 0; i < 16; i++) {
                sixteen.put("k" + i, "v" + i);
            }
            Map<String, String> seventeen = new HashMap<>(sixteen);
            seventeen.put("k16", "v16");
            Expect.badRequest("metadata", () -> h.service.batches().create(base.withMetadata(seventeen)));
            Expect.badRequest("metadata", () -> h.service.batches().create(base.withMetadata(Map.of("k".repeat(65), "v"))));
            Expect.badRequest("metadata", () -> h.service.batches().create(base.withMetadata(Map.of("k", "v".repeat(513)))));

            Map<String, String> atLimits = Map.of("k".repeat(64), "v".repeat(512));
            assertEquals(sixteen, h.service.batches().create(base.withMetadata(sixteen)).metadata());
            Batch limits = h.service.batches().create(base.withMetadata(atLimits));
            assertEquals(atLimits, h.service.batches().get(limits.id()).metadata(), "metadata is stored as given");
            assertNull(h.service.batches().create(base.withMetadata(null)).metadata());
        }
    }

    @Test
    @DisplayName("B3: output_expires_after outside 3600..2592000 seconds is a 400")
    void outputExpiryRange() {
        try (Harness h = new Harness(dir)) {
            String file = h.upload(Jsonl.chatLines(1)).id();
            BatchCreateRequest base = BatchCreateRequest.of(file, Endpoint.CHAT_COMPLETIONS);
            for (long s : new long[] {0, 3599, 2_592_001}) {
                InvalidRequestException e = assertThrows(InvalidRequestException.class,
                        () -> h.service.batches().create(base.withOutputExpiresAfterSeconds(s)));
                assertEquals(400, e.httpStatus());
                assertTrue(e.param().startsWith("output_expires_after"), e.param());
            }
            assertNotNull(h.service.batches().create(base.withOutputExpiresAfterSeconds(3600L)));
            assertNotNull(h.service.batches().create(base.withOutputExpiresAfterSeconds(2_592_000L)));
        }
    }

    @Test
    @DisplayName("B3: result files expire output_expires_after seconds after their own creation, not the batch's")
    void resultFilesExpireFromTheirOwnCreation() throws Exception {
        try (Harness h = new Harness(dir)) {
            String content = Jsonl.chatLine("ok", "fine", HOLD) + "\n" + Jsonl.chatLine("bad", "no", "\"test_status\":400");
            Batch b = h.service.batches().create(BatchCreateRequest.of(h.upload(content).id(), Endpoint.CHAT_COMPLETIONS)
                    .withOutputExpiresAfterSeconds(3600L));
            Poll.until("the held line", () -> h.backend.heldCount() == 1);
            h.clock.advance(Duration.ofHours(2));
            h.backend.releaseHeld();
            Batch done = await(h, b);
            assertEquals(START_SECONDS, done.createdAt());
            for (String id : List.of(done.outputFileId(), done.errorFileId())) {
                FileObject f = h.service.files().get(id);
                assertEquals(START_SECONDS + 7200, f.createdAt(), "written when the batch finished");
                assertEquals(f.createdAt() + 3600, f.expiresAt());
            }
        }
    }

    @Test
    @DisplayName("B4: an unknown, deleted or non-batch input file is a 400 naming input_file_id")
    void inputFileMustExistWithPurposeBatch() throws Exception {
        try (Harness h = new Harness(dir)) {
            BatchOperations batches = h.service.batches();
            Expect.badRequest("input_file_id", () -> batches.create("file-missing", Endpoint.CHAT_COMPLETIONS));
            FileObject userData = h.service.files().upload(new java.io.ByteArrayInputStream(
                    Jsonl.chatLines(1).getBytes(java.nio.charset.StandardCharsets.UTF_8)), "in.jsonl", FilePurpose.USER_DATA);
            Expect.badRequest("input_file_id", () -> batches.create(userData.id(), Endpoint.CHAT_COMPLETIONS));
            FileObject deleted = h.upload(Jsonl.chatLines(1));
            h.service.files().delete(deleted.id());
            Expect.badRequest("input_file_id", () -> batches.create(deleted.id(), Endpoint.CHAT_COMPLETIONS));
            Expect.badRequest("input_file_id", () -> BatchCreateRequest.of("", Endpoint.CHAT_COMPLETIONS));

            Batch done = h.run(Jsonl.chatLines(1));
            String output = done.outputFileId();
            Expect.badRequest("input_file_id", () -> batches.create(output, Endpoint.CHAT_COMPLETIONS));
            assertEquals(1, batches.list().data().size(), "only the batch that ran exists");
        }
    }

    @Test
    @DisplayName("B5: create returns validating with zero counts, no errors and no result files")
    void createReturnsValidating() {
        try (Harness h = new Harness(dir)) {
            FileObject input = h.upload(Jsonl.chatLines(3));
            Batch b = h.service.batches().create(input.id(), Endpoint.CHAT_COMPLETIONS);
            assertTrue(b.id().startsWith("batch_"), b.id());
            assertEquals(BatchStatus.VALIDATING, b.status());
            assertEquals(new RequestCounts(0, 0, 0), b.requestCounts());
            assertNull(b.errors());
            assertNull(b.outputFileId());
            assertNull(b.errorFileId());
            assertEquals(input.id(), b.inputFileId());
            assertEquals("/v1/chat/completions", b.endpoint());
            assertEquals("24h", b.completionWindow());
            assertEquals(START_SECONDS, b.createdAt());
            assertNull(b.inProgressAt());
            assertNull(b.completedAt());
        }
    }

    @Test
    @DisplayName("B6: a Batch serializes with all 22 keys, null where unset, and integer seconds")
    void batchObjectHasEveryKey() throws Exception {
        Set<String> all = new TreeSet<>(List.of("id", "object", "endpoint", "errors", "input_file_id",
                "completion_window", "status", "output_file_id", "error_file_id", "created_at", "in_progress_at",
                "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at",
                "cancelled_at", "request_counts", "metadata", "model", "usage"));
        try (Harness h = new Harness(dir)) {
            Batch created = create(h, Jsonl.chatLines(2));
            JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(created));
            assertEquals(all, keys(json));
            assertEquals("batch", json.get("object").asText());
            assertEquals("validating", json.get("status").asText());
            for (String nullKey : List.of("errors", "output_file_id", "error_file_id", "in_progress_at", "finalizing_at",
                    "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "metadata", "model")) {
                assertTrue(json.get(nullKey).isNull(), nullKey + " should be null: " + json);
            }
            assertTrue(json.get("created_at").isIntegralNumber());
            assertTrue(json.get("expires_at").isIntegralNumber());
            assertEquals(Set.of("total", "completed", "failed"), keys(json.get("request_counts")));

            Batch done = await(h, created);
            JsonNode finished = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(done));
            assertEquals(all, keys(finished));
            assertEquals("completed", finished.get("status").asText());
            for (String at : List.of("in_progress_at", "finalizing_at", "completed_at")) {
                assertTrue(finished.get(at).isIntegralNumber(), at);
            }
            JsonNode usage = finished.get("usage");
            assertEquals(Set.of("input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details",
                    "total_tokens"), keys(usage));
            assertEquals(Set.of("cached_tokens"), keys(usage.get("input_tokens_details")));
            assertEquals(Set.of("reasoning_tokens"), keys(usage.get("output_tokens_details")));
            assertEquals("test-model", finished.get("model").asText());

            Batch failed = h.run("not json\n");
            JsonNode errors = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(failed)).get("errors");
            assertEquals("list", errors.get("object").asText());
            assertEquals(Set.of("code", "message", "param", "line"), keys(errors.get("data").get(0)));
            assertTrue(errors.get("data").get(0).get("param").isNull(), "param is present even when null");
        }
    }

    @Test
    @DisplayName("B6 regression: usage writes cached_tokens only inside input_tokens_details, not as a flat key")
    void usageHasNoFlatCachedTokensKey() {
        JsonNode usage = Jsonl.JSON.valueToTree(new BatchUsage(3, 4, 2));
        assertEquals(Set.of("input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details",
                "total_tokens"), keys(usage));
        assertEquals(2, usage.at("/input_tokens_details/cached_tokens").asLong());
        assertEquals(7, usage.get("total_tokens").asLong());
    }

    @Test
    @DisplayName("B7: the statuses are exactly OpenAI's eight, and four of them are terminal")
    void statusNames() throws Exception {
        Set<String> wire = new TreeSet<>();
        Set<String> terminal = new TreeSet<>();
        for (BatchStatus s : BatchStatus.values()) {
            String name = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(s)).asText();
            wire.add(name);
            assertEquals(s, BatchStatus.fromWire(name));
            if (s.isTerminal()) {
                terminal.add(name);
            }
        }
        assertEquals(new TreeSet<>(List.of("validating", "failed", "in_progress", "finalizing", "completed", "expired",
                "cancelling", "cancelled")), wire);
        assertEquals(new TreeSet<>(List.of("completed", "failed", "expired", "cancelled")), terminal);
    }

    @Test
    @DisplayName("B8: in_progress_at <= finalizing_at <= completed_at, each set once and kept")
    void timestampsAreSetOnceAndKept() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = startHeld(h, Jsonl.chatLine("held", "wait", HOLD) + "\n" + Jsonl.chatLines(2), 1);
            // The two plain lines finish on their own; wait for them so the held line is all that is left.
            Poll.until("the plain lines", () -> h.service.batches().get(b.id()).requestCounts().completed() == 2);
            Batch running = h.service.batches().get(b.id());
            assertEquals(BatchStatus.IN_PROGRESS, running.status());
            assertEquals(START_SECONDS, running.inProgressAt());
            assertNull(running.finalizingAt());
            h.clock.advance(Duration.ofSeconds(90));
            assertEquals(running, h.service.batches().get(b.id()), "nothing changes while a line is held");
            h.backend.releaseHeld();
            Batch done = await(h, b);
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals(b.createdAt(), done.createdAt());
            assertEquals(running.inProgressAt(), done.inProgressAt(), "in_progress_at is kept");
            assertEquals(b.expiresAt(), done.expiresAt());
            assertEquals(START_SECONDS + 90, done.finalizingAt());
            assertTrue(done.createdAt() <= done.inProgressAt());
            assertTrue(done.inProgressAt() <= done.finalizingAt());
            assertTrue(done.finalizingAt() <= done.completedAt());
            assertNull(done.failedAt());
            assertNull(done.expiredAt());
            assertNull(done.cancellingAt());
            assertNull(done.cancelledAt());

            h.clock.advance(Duration.ofSeconds(30));
            assertEquals(done, h.service.batches().get(b.id()), "a terminal batch never changes");
        }
    }

    @Test
    @DisplayName("B8: a batch that fails validation goes validating -> failed with failed_at and no in_progress_at")
    void failedBatchStamps() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch failed = h.run("{oops\n");
            assertEquals(BatchStatus.FAILED, failed.status());
            assertEquals(START_SECONDS, failed.failedAt());
            assertNull(failed.inProgressAt());
            assertNull(failed.finalizingAt());
            assertNull(failed.completedAt());
        }
    }

    @Test
    @DisplayName("B9: expires_at is created_at + 86400, set at creation")
    void expiresAtIsOneDayAfterCreation() throws Exception {
        try (Harness h = new Harness(dir)) {
            h.clock.advance(Duration.ofSeconds(42));
            Batch b = create(h, Jsonl.chatLines(1));
            assertEquals(START_SECONDS + 42, b.createdAt());
            assertEquals(b.createdAt() + 86_400, b.expiresAt());
            assertEquals(b.expiresAt(), await(h, b).expiresAt());
        }
    }

    @Test
    @DisplayName("B10: get, cancel and await of an unknown batch are a 404 naming id")
    void unknownBatchIsNotFound() {
        try (Harness h = new Harness(dir)) {
            BatchOperations batches = h.service.batches();
            Expect.notFound("No such Batch object: batch_nope", () -> batches.get("batch_nope"));
            Expect.notFound("No such Batch object: batch_nope", () -> batches.cancel("batch_nope"));
            Expect.notFound("No such Batch object: batch_nope", () -> batches.await("batch_nope", Duration.ofSeconds(1)));
        }
    }

    @Test
    @DisplayName("B11: cancel mid-flight answers cancelling, is idempotent, and ends cancelled with finished lines kept")
    void cancelMidFlight() throws Exception {
        try (Harness h = twoInFlight()) {
            Batch b = startHeld(h, heldThenPlain(5), 2);
            h.clock.advance(Duration.ofSeconds(10));
            Batch cancelling = h.service.batches().cancel(b.id());
            assertEquals(BatchStatus.CANCELLING, cancelling.status());
            assertEquals(START_SECONDS + 10, cancelling.cancellingAt());
            assertNull(cancelling.cancelledAt());
            assertEquals(START_SECONDS, cancelling.inProgressAt());

            h.clock.advance(Duration.ofSeconds(10));
            Batch again = h.service.batches().cancel(b.id());
            assertEquals(BatchStatus.CANCELLING, again.status(), "cancelling a cancelling batch is a no-op");
            assertEquals(cancelling.cancellingAt(), again.cancellingAt());

            h.backend.releaseHeld();
            Batch done = await(h, b);
            assertEquals(BatchStatus.CANCELLED, done.status());
            assertEquals(START_SECONDS + 20, done.cancelledAt());
            assertEquals(cancelling.cancellingAt(), done.cancellingAt(), "cancelling_at is kept");
            assertEquals(START_SECONDS, done.inProgressAt(), "in_progress_at is kept");
            assertNull(done.completedAt());
            assertEquals(new RequestCounts(7, 2, 5), done.requestCounts());
            assertEquals(2, h.backend.executed(), "the unrun lines never reached the backend");

            assertEquals(Set.of("held-0", "held-1"), customIds(h, done.outputFileId()));
            List<JsonNode> errors = h.lines(done.errorFileId());
            assertEquals(Set.of("req-0", "req-1", "req-2", "req-3", "req-4"), customIds(h, done.errorFileId()));
            for (JsonNode line : errors) {
                assertTrue(line.get("response").isNull(), line.toString());
                assertEquals("batch_cancelled", line.at("/error/code").asText());
            }
        }
    }

    @Test
    @DisplayName("B11 (section 7): cancelling a validating batch is accepted; it ends cancelled and runs no line")
    void cancelWhileValidating() throws Exception {
        // Validation runs on a background thread; holding it at loadRequests keeps the batch in
        // validating for as long as the test needs, without depending on timing.
        CountDownLatch validating = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        JobStore real = JdbcJobStore.h2(dir);
        JobStore gated = (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("loadRequests")) {
                        validating.countDown();
                        proceed.await();
                    }
                    return invoke(method, real, args);
                });
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.jobStore(gated))) {
            try {
                Batch b = create(h, Jsonl.chatLines(3));
                assertTrue(validating.await(20, TimeUnit.SECONDS), "validation never started");
                h.clock.advance(Duration.ofSeconds(5));
                Batch cancelling = h.service.batches().cancel(b.id());
                assertEquals(BatchStatus.CANCELLING, cancelling.status());
                assertEquals(START_SECONDS + 5, cancelling.cancellingAt());
                assertNull(cancelling.inProgressAt());
                proceed.countDown();
                Batch done = await(h, b);
                assertEquals(BatchStatus.CANCELLED, done.status(), () -> done.toString());
                assertNotNull(done.cancelledAt());
                assertNull(done.inProgressAt(), "it never ran");
                assertCountsAddUp(done);
                assertEquals(0, h.backend.executed());
            } finally {
                proceed.countDown();
            }
        }
    }

    @Test
    @DisplayName("B11 (section 7): a cancel in the middle of loading the rows ends the batch with no lines")
    void cancelWhileRowsAreBeingLoaded() throws Exception {
        // Regression companion of the chunked load: validation stores rows in small transactions, so a
        // cancelled batch may hold rows of a load still running. It ends with none of them.
        int lines = 2_500;
        CountDownLatch loaded = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        JobStore real = JdbcJobStore.h2(dir);
        JobStore gated = (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class}, (proxy, method, args) -> {
                    Object result = invoke(method, real, args);
                    if (!method.getName().equals("loadRequests")) {
                        return result;
                    }
                    JobStore.RequestLoader loader = (JobStore.RequestLoader) result;
                    // holds the last line, after the rows before it went into the store in chunks
                    return Proxy.newProxyInstance(JobStore.class.getClassLoader(),
                            new Class<?>[] {JobStore.RequestLoader.class}, (p, m, a) -> {
                                if (m.getName().equals("add") && ((RequestRow) a[0]).lineNo() == lines) {
                                    loaded.countDown();
                                    proceed.await();
                                }
                                return invoke(m, loader, a);
                            });
                });
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.jobStore(gated))) {
            try {
                Batch b = create(h, Jsonl.chatLines(lines));
                assertTrue(loaded.await(20, TimeUnit.SECONDS), "loading never reached the last line");
                h.service.batches().cancel(b.id());
                Batch done = await(h, b);
                proceed.countDown();
                assertEquals(BatchStatus.CANCELLED, done.status(), () -> done.toString());
                assertEquals(new RequestCounts(0, 0, 0), done.requestCounts());
                assertNull(done.errorFileId(), "no line of a batch cancelled while validating is reported");
                assertEquals(0, h.backend.executed());
            } finally {
                proceed.countDown();
            }
        }
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    @DisplayName("B12: cancelling a completed, failed or cancelled batch is a 409 'Cannot cancel a batch with status ...'")
    void cancelOfTerminalBatchIsAConflict() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch completed = h.run(Jsonl.chatLines(1));
            Batch failed = h.run("[]\n");
            Batch cancelled = startHeld(h, Jsonl.chatLine("h", "x", HOLD) + "\n", 1);
            h.service.batches().cancel(cancelled.id());
            h.backend.releaseHeld();
            assertEquals(BatchStatus.CANCELLED, await(h, cancelled).status());

            for (Batch b : List.of(completed, failed, h.service.batches().get(cancelled.id()))) {
                ConflictException e = assertThrows(ConflictException.class, () -> h.service.batches().cancel(b.id()));
                assertEquals(409, e.httpStatus());
                assertEquals("invalid_request_error", e.type());
                assertNull(e.param());
                assertNull(e.code());
                assertEquals("Cannot cancel a batch with status '" + b.status().wire() + "'.", e.getMessage());
                assertEquals(b, h.service.batches().get(b.id()), "a refused cancel changes nothing");
            }
            ConflictException e = assertThrows(ConflictException.class, () -> h.service.batches().cancel(completed.id()));
            assertEquals("Cannot cancel a batch with status 'completed'.", e.getMessage());
        }
    }

    @Test
    @DisplayName("B13: batches list newest first, limit is 1..100, and paging ends on an empty page")
    void batchListPaging() throws Exception {
        try (Harness h = new Harness(dir)) {
            String file = h.upload(Jsonl.chatLines(1)).id();
            List<String> created = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                created.add(h.service.batches().create(file, Endpoint.CHAT_COMPLETIONS).id());
                h.clock.advance(Duration.ofSeconds(1));
            }
            BatchOperations batches = h.service.batches();
            Expect.badRequest("limit", () -> batches.list(null, 0));
            Expect.badRequest("limit", () -> batches.list(null, 101));
            assertEquals(5, batches.list(null, 100).data().size());
            Page<Batch> first = batches.list();
            assertEquals(created.reversed(), first.data().stream().map(Batch::id).toList());
            assertTrue(first.data().get(0).createdAt() > first.data().get(1).createdAt());

            List<String> seen = new ArrayList<>();
            List<Boolean> hasMore = new ArrayList<>();
            String after = null;
            Page<Batch> page;
            do {
                page = batches.list(after, 2);
                page.data().forEach(b -> seen.add(b.id()));
                hasMore.add(page.hasMore());
                if (!page.data().isEmpty()) {
                    assertEquals(page.data().getFirst().id(), page.firstId());
                    after = page.lastId();
                }
            } while (!page.data().isEmpty());
            assertEquals(created.reversed(), seen);
            assertEquals(List.of(true, true, false, false), hasMore);
            assertEquals("", page.firstId());
            assertEquals("", page.lastId());
            JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(page));
            assertEquals("list", json.get("object").asText());
            assertFalse(json.get("has_more").asBoolean());
        }
    }

    @Test
    @DisplayName("B14: completed + failed = total in completed, failed and cancelled batches")
    void countsAddUpAtEveryTerminalState() throws Exception {
        try (Harness h = twoInFlight()) {
            Batch mixed = h.run(Jsonl.chatLine("ok", "a") + "\n" + Jsonl.chatLine("bad", "b", "\"test_status\":400")
                    + "\n" + Jsonl.chatLine("crash", "c", "\"test_throw\":true") + "\n");
            assertEquals(BatchStatus.COMPLETED, mixed.status());
            assertEquals(new RequestCounts(3, 1, 2), mixed.requestCounts());

            Batch failed = h.run(Jsonl.chatLines(2) + "nope\n");
            assertEquals(BatchStatus.FAILED, failed.status());
            assertCountsAddUp(failed);

            Batch b = startHeld(h, heldThenPlain(3), 2);
            h.service.batches().cancel(b.id());
            h.backend.releaseHeld();
            Batch cancelled = await(h, b);
            assertEquals(BatchStatus.CANCELLED, cancelled.status());
            assertEquals(new RequestCounts(5, 2, 3), cancelled.requestCounts(), "unrun lines count as failed");
            for (Batch x : List.of(mixed, failed, cancelled)) {
                assertCountsAddUp(x);
            }
        }
    }

    @Test
    @DisplayName("B16: usage sums the lines' tokens and model names the model that served the batch")
    void usageIsSummedOverLines() throws Exception {
        try (Harness h = new Harness(dir)) {
            // The test backend counts characters: prompt = the message, completion = "echo: " + the message.
            Batch done = h.run(Jsonl.chatLine("a", "x") + "\n" + Jsonl.chatLine("b", "yy") + "\n"
                    + Jsonl.chatLine("c", "zzz") + "\n");
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals("test-model", done.model());
            assertEquals(1 + 2 + 3, done.usage().inputTokens());
            assertEquals(7 + 8 + 9, done.usage().outputTokens());
            assertEquals(6 + 24, done.usage().totalTokens());
            JsonNode usage = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(done)).get("usage");
            assertEquals(6, usage.get("input_tokens").asLong());
            assertEquals(24, usage.get("output_tokens").asLong());
            assertEquals(30, usage.get("total_tokens").asLong());
            assertEquals(0, usage.at("/input_tokens_details/cached_tokens").asLong());
            assertEquals(0, usage.at("/output_tokens_details/reasoning_tokens").asLong());
        }
    }

    @Test
    @DisplayName("B16 regression: a batch whose lines all fail on their own names no model (null, not \"\")")
    void batchWithoutAUsableLineHasNullModel() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch b = h.run("{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                    + "\"body\":{\"messages\":[]}}\n");
            assertEquals(BatchStatus.COMPLETED, b.status());
            assertEquals(new RequestCounts(1, 0, 1), b.requestCounts());
            assertNull(b.model(), () -> "model was '" + b.model() + "'");
            assertNull(b.outputFileId());
        }
    }
}
