package io.batchllm.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.Batch;
import io.batchllm.BatchError;
import io.batchllm.BatchStatus;
import io.batchllm.BatchUsage;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.ListOrder;
import io.batchllm.RequestCounts;
import io.batchllm.spi.TokenUsage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The executable specification of {@link JobStore}. Each implementation (H2 here; PostgreSQL when a
 * run provides one) extends this with a way to open a fresh, empty store.
 */
public abstract class JobStoreContract {

    protected JobStore store;

    /** A new, empty store. */
    protected abstract JobStore openStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = openStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    // ---- helpers

    static FileRecord file(String id, FilePurpose purpose, long createdAt) {
        return new FileRecord(new FileObject(id, 10, createdAt, id + ".jsonl", purpose, "processed", null, null),
                "owner", false);
    }

    static BatchRecord batch(String id, String inputFileId) {
        Batch b = new Batch(id, "/v1/chat/completions", null, inputFileId, "24h", BatchStatus.VALIDATING, null, null,
                1000, null, 1000 + 86400L, null, null, null, null, null, null, new RequestCounts(0, 0, 0),
                Map.of("k", "v"), null, new BatchUsage(0, 0, 0));
        return new BatchRecord(b, null, null, "owner");
    }

    /** A batch in progress with {@code lines} runnable rows. */
    String runningBatch(int lines) {
        String fileId = "file-" + UUID.randomUUID();
        String batchId = "batch_" + UUID.randomUUID();
        store.insertFile(file(fileId, FilePurpose.BATCH, 1000));
        store.insertBatch(batch(batchId, fileId));
        try (JobStore.RequestLoader loader = store.loadRequests(batchId)) {
            for (int i = 1; i <= lines; i++) {
                loader.add(new RequestRow(i, "c" + i, i * 100L, 50, null));
            }
            assertTrue(loader.commit("m", 1001));
        }
        return batchId;
    }

    static StoredResult ok(long prompt, long completion) {
        return StoredResult.response(200, "{\"ok\":true}", new TokenUsage(prompt, completion, 0));
    }

    // ---- files

    @Test
    void filesListInCreationOrderWithPurposeFilterAndCursor() {
        for (int i = 0; i < 5; i++) {
            store.insertFile(file("file-" + i, i % 2 == 0 ? FilePurpose.BATCH : FilePurpose.USER_DATA, 100 + i));
        }
        List<FileRecord> desc = store.listFiles(null, null, null, 10, ListOrder.DESC);
        assertEquals(List.of("file-4", "file-3", "file-2", "file-1", "file-0"), desc.stream().map(FileRecord::id).toList());
        List<FileRecord> asc = store.listFiles(FilePurpose.BATCH, null, "file-0", 10, ListOrder.ASC);
        assertEquals(List.of("file-2", "file-4"), asc.stream().map(FileRecord::id).toList());
        assertEquals(List.of(), store.listFiles(null, null, "file-0", 10, ListOrder.DESC));
    }

    @Test
    void aCursorNamingAnotherOwnersObjectGivesTheEmptyPageOfAnUnknownId() {
        for (int i = 0; i < 3; i++) {
            store.insertFile(new FileRecord(file("file-a" + i, FilePurpose.BATCH, i).file(), "a", false));
            store.insertFile(new FileRecord(file("file-b" + i, FilePurpose.BATCH, i).file(), "b", false));
            store.insertBatch(new BatchRecord(batch("batch_a" + i, "f").batch(), null, null, "a"));
            store.insertBatch(new BatchRecord(batch("batch_b" + i, "f").batch(), null, null, "b"));
        }
        for (ListOrder order : ListOrder.values()) {
            assertEquals(List.of(), store.listFiles(null, "a", "file-b1", 10, order), order.name());
            assertEquals(List.of(), store.listFiles(null, "a", "file-nope", 10, order), order.name());
        }
        assertEquals(List.of("file-a2"), store.listFiles(null, "a", "file-a1", 10, ListOrder.ASC).stream()
                .map(FileRecord::id).toList());
        assertEquals(List.of(), store.listBatches("a", "batch_b2", 10));
        assertEquals(List.of(), store.listBatches("a", "batch_nope", 10));
        assertEquals(List.of("batch_a1", "batch_a0"), store.listBatches("a", "batch_a2", 10).stream()
                .map(BatchRecord::id).toList());
        // The unscoped view pages across owners.
        assertEquals(List.of("file-a1", "file-b0", "file-a0"), store.listFiles(null, null, "file-b1", 10,
                ListOrder.DESC).stream().map(FileRecord::id).toList());
    }

    @Test
    void aDeletedFileLeavesListsButStaysFindableAsDeleted() {
        store.insertFile(file("file-a", FilePurpose.BATCH, 1));
        store.insertFile(file("file-b", FilePurpose.BATCH, 2));
        assertTrue(store.markFileDeleted("file-a"));
        assertFalse(store.markFileDeleted("file-a"), "deleting twice reports false");
        assertTrue(store.findFile("file-a").orElseThrow().deleted());
        assertEquals(List.of("file-b"), store.listFiles(null, null, null, 10, ListOrder.ASC).stream().map(FileRecord::id).toList());
        // The cursor still works from a deleted file.
        assertEquals(List.of("file-b"), store.listFiles(null, null, "file-a", 10, ListOrder.ASC).stream().map(FileRecord::id).toList());
    }

    @Test
    void filesExpireByTheirExpiresAt() {
        store.insertFile(new FileRecord(new FileObject("file-x", 1, 1, "x", FilePurpose.BATCH, "processed", 50L, null),
                "o", false));
        store.insertFile(file("file-y", FilePurpose.USER_DATA, 1));
        assertEquals(List.of(), store.expiredFiles(49));
        assertEquals(List.of("file-x"), store.expiredFiles(50));
    }

    // ---- batches

    @Test
    void aBatchRoundTripsWithEveryField() {
        store.insertBatch(batch("batch_1", "file-1"));
        Batch b = store.findBatch("batch_1").orElseThrow().batch();
        assertEquals(BatchStatus.VALIDATING, b.status());
        assertEquals(Map.of("k", "v"), b.metadata());
        assertEquals(1000 + 86400L, b.expiresAt());
        assertNull(b.inProgressAt());
        assertEquals(new RequestCounts(0, 0, 0), b.requestCounts());
    }

    @Test
    void validationCommitsRowsAndMovesToInProgressAllOrNothing() {
        store.insertBatch(batch("batch_a", "file-1"));
        try (JobStore.RequestLoader loader = store.loadRequests("batch_a")) {
            loader.add(new RequestRow(1, "a", 0, 10, null));
            loader.add(new RequestRow(2, "b", 10, 10,
                    StoredResult.response(400, "{\"error\":{}}", TokenUsage.ZERO)));
            // closed without commit: nothing is stored
        }
        assertEquals(BatchStatus.VALIDATING, store.findBatch("batch_a").orElseThrow().batch().status());
        List<FinishedLine> none = new ArrayList<>();
        store.forEachLine("batch_a", none::add);
        assertTrue(none.isEmpty());

        try (JobStore.RequestLoader loader = store.loadRequests("batch_a")) {
            loader.add(new RequestRow(1, "a", 0, 10, null));
            loader.add(new RequestRow(2, "b", 10, 10,
                    StoredResult.response(400, "{\"error\":{}}", TokenUsage.ZERO)));
            assertTrue(loader.commit("model-x", 1005));
        }
        Batch b = store.findBatch("batch_a").orElseThrow().batch();
        assertEquals(BatchStatus.IN_PROGRESS, b.status());
        assertEquals(1005L, b.inProgressAt());
        assertEquals("model-x", b.model());
        assertEquals(new RequestCounts(2, 0, 1), b.requestCounts(), "a pre-failed line counts as failed");
    }

    @Test
    void aNewLoaderReplacesTheRowsOfAnInterruptedLoadAndTheOldOneStops() {
        // Regression: validation stored all rows in one transaction, which H2 recovered badly after a
        // kill. Rows now go in small transactions; a later load (after a crash, or on another node)
        // takes over and replaces what the interrupted one stored.
        store.insertBatch(batch("batch_t", "file-1"));
        int stored = JdbcJobStore.LOAD_CHUNK_ROWS * 2 + 5;
        JobStore.RequestLoader interrupted = store.loadRequests("batch_t");
        for (int i = 1; i <= stored; i++) {
            interrupted.add(new RequestRow(i, "old" + i, i, 10, null));
        }
        // never committed nor closed: the process died here

        try (JobStore.RequestLoader loader = store.loadRequests("batch_t")) {
            for (int i = 1; i <= 3; i++) {
                loader.add(new RequestRow(i, "new" + i, i, 10, null));
            }
            assertTrue(loader.commit("m", 1001));
        }
        assertFalse(interrupted.commit("m", 1002), "the interrupted loader no longer holds the batch");
        interrupted.close();

        List<FinishedLine> lines = new ArrayList<>();
        store.forEachLine("batch_t", lines::add);
        assertEquals(List.of("new1", "new2", "new3"), lines.stream().map(FinishedLine::customId).toList());
        assertEquals(new RequestCounts(3, 0, 0), store.findBatch("batch_t").orElseThrow().batch().requestCounts());
    }

    @Test
    void aLoadStoppedByACancelLeavesNoRows() {
        store.insertBatch(batch("batch_x", "file-1"));
        JobStore.RequestLoader loader = store.loadRequests("batch_x");
        for (int i = 1; i <= JdbcJobStore.LOAD_CHUNK_ROWS + 1; i++) {
            loader.add(new RequestRow(i, "c" + i, i, 10, null));
        }
        assertTrue(store.requestCancel("batch_x", 1001));
        loader.add(new RequestRow(JdbcJobStore.LOAD_CHUNK_ROWS + 2, "late", 0, 10, null));
        assertFalse(loader.commit("m", 1002));
        List<FinishedLine> lines = new ArrayList<>();
        store.forEachLine("batch_x", lines::add);
        assertEquals(List.of(), lines);
    }

    @Test
    void rowsOfABatchThatNeverLeftValidationCanBeDiscarded() {
        store.insertBatch(batch("batch_y", "file-1"));
        JobStore.RequestLoader crashed = store.loadRequests("batch_y");
        for (int i = 1; i <= JdbcJobStore.LOAD_CHUNK_ROWS * 3; i++) {
            crashed.add(new RequestRow(i, "c" + i, i, 10, null));
        }
        store.discardRequests("batch_y");
        List<FinishedLine> lines = new ArrayList<>();
        store.forEachLine("batch_y", lines::add);
        assertEquals(List.of(), lines);
    }

    @Test
    void closingALoaderTwiceIsHarmless() {
        // Regression: a failed validation closed its loader twice and logged a spurious store error.
        store.insertBatch(batch("batch_d", "file-1"));
        JobStore.RequestLoader loader = store.loadRequests("batch_d");
        loader.add(new RequestRow(1, "a", 0, 10, null));
        loader.close();
        loader.close();
        assertEquals(BatchStatus.VALIDATING, store.findBatch("batch_d").orElseThrow().batch().status());
    }

    @Test
    void exactlyOneOfTwoConflictingTransitionsWins() {
        store.insertBatch(batch("batch_c", "file-1"));
        assertTrue(store.requestCancel("batch_c", 1001));
        try (JobStore.RequestLoader loader = store.loadRequests("batch_c")) {
            loader.add(new RequestRow(1, "a", 0, 10, null));
            assertFalse(loader.commit("m", 1002), "validation may not start a batch that was cancelled meanwhile");
        }
        assertFalse(store.failValidation("batch_c", List.of(new BatchError("x", "y", null, 1L)), 1003, false));
        assertEquals(BatchStatus.CANCELLING, store.findBatch("batch_c").orElseThrow().batch().status());
        assertFalse(store.requestCancel("batch_c", 1004), "cancelling twice changes nothing");
    }

    @Test
    void failedValidationKeepsItsErrors() {
        store.insertBatch(batch("batch_f", "file-1"));
        List<BatchError> errors = List.of(new BatchError("duplicate_custom_id", "dup", "custom_id", 7L));
        assertTrue(store.failValidation("batch_f", errors, 1010, false));
        Batch b = store.findBatch("batch_f").orElseThrow().batch();
        assertEquals(BatchStatus.FAILED, b.status());
        assertEquals(1010L, b.failedAt());
        assertEquals(errors, b.errors().data());
    }

    @Test
    void batchesListNewestFirstWithCursor() {
        for (int i = 0; i < 4; i++) {
            store.insertBatch(batch("batch_" + i, "f"));
        }
        assertEquals(List.of("batch_3", "batch_2"), store.listBatches(null, null, 2).stream().map(BatchRecord::id).toList());
        assertEquals(List.of("batch_1", "batch_0"), store.listBatches(null, "batch_2", 5).stream().map(BatchRecord::id).toList());
        assertEquals(List.of(), store.listBatches(null, "batch_0", 5));
        assertEquals(List.of("batch_0", "batch_1", "batch_2", "batch_3"),
                store.batchIdsWithStatus(EnumSet.of(BatchStatus.VALIDATING)));
    }

    // ---- claims and results

    @Test
    void claimsLeaseEachRowOnceWithAFencingToken() {
        String b = runningBatch(10);
        List<ClaimedRequest> first = store.claim("node-a", Set.of("m"), 6, Duration.ofMinutes(1));
        List<ClaimedRequest> second = store.claim("node-b", Set.of("m"), 6, Duration.ofMinutes(1));
        assertEquals(6, first.size());
        assertEquals(4, second.size());
        Set<Integer> lines = new HashSet<>();
        first.forEach(c -> lines.add(c.lineNo()));
        second.forEach(c -> lines.add(c.lineNo()));
        assertEquals(10, lines.size());
        assertNotEquals(first.getFirst().leaseToken(), second.getFirst().leaseToken());
        assertEquals(b, first.getFirst().batchId());
        assertEquals("m", first.getFirst().model());
        assertEquals(List.of(), store.claim("node-c", Set.of("m"), 5, Duration.ofMinutes(1)));
        assertEquals(List.of(), store.claim("node-c", Set.of("other-model"), 5, Duration.ofMinutes(1)));
    }

    @Test
    void concurrentClaimersNeverShareARow() throws Exception {
        runningBatch(400);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Set<Integer> claimed = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            String owner = "node-" + t;
            futures.add(pool.submit(() -> {
                start.await();
                int n = 0;
                while (true) {
                    List<ClaimedRequest> got = store.claim(owner, Set.of("m"), 7, Duration.ofMinutes(1));
                    if (got.isEmpty()) {
                        return n;
                    }
                    for (ClaimedRequest c : got) {
                        assertTrue(claimed.add(c.lineNo()), "line " + c.lineNo() + " claimed twice");
                    }
                    n += got.size();
                }
            }));
        }
        start.countDown();
        int total = 0;
        for (Future<Integer> f : futures) {
            total += f.get();
        }
        pool.shutdown();
        assertEquals(400, total);
    }

    @Test
    void aResultIsStoredOnlyWithTheCurrentLeaseToken() throws Exception {
        String b = runningBatch(2);
        List<ClaimedRequest> claims = store.claim("node-a", Set.of("m"), 2, Duration.ofMillis(1));
        // The lease expires by the database's clock: claim until it has.
        List<ClaimedRequest> reclaimed = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (reclaimed.isEmpty() && System.nanoTime() < deadline) {
            reclaimed = store.claim("node-b", Set.of("m"), 2, Duration.ofMinutes(1));
        }
        assertEquals(2, reclaimed.size(), "expired leases can be claimed again");

        ClaimedRequest stale = claims.getFirst();
        CompletionResult r1 = store.complete(List.of(new RequestCompletion(b, stale.lineNo(), stale.leaseToken(), ok(1, 1))), false);
        assertTrue(r1.accepted().isEmpty(), "the old owner's result is refused");

        List<RequestCompletion> fresh = reclaimed.stream()
                .map(c -> new RequestCompletion(b, c.lineNo(), c.leaseToken(), ok(3, 4))).toList();
        CompletionResult r2 = store.complete(fresh, false);
        assertEquals(2, r2.accepted().size());
        assertEquals(Set.of(b), r2.batchesToFinalize(), "all lines done: ready to finalize");
        Batch done = store.findBatch(b).orElseThrow().batch();
        assertEquals(new RequestCounts(2, 2, 0), done.requestCounts());
        assertEquals(6, done.usage().inputTokens());
        assertEquals(8, done.usage().outputTokens());

        // Completing again changes nothing: at most one result per line.
        assertTrue(store.complete(fresh, false).accepted().isEmpty());
    }

    @Test
    void releasedLeasesAreRunnableAtOnce() {
        runningBatch(3);
        assertEquals(3, store.claim("node-a", Set.of("m"), 3, Duration.ofMinutes(10)).size());
        assertEquals(0, store.claim("node-b", Set.of("m"), 3, Duration.ofMinutes(10)).size());
        assertEquals(3, store.renewLeases("node-a", Duration.ofMinutes(10)));
        assertEquals(3, store.releaseLeases("node-a"));
        assertEquals(3, store.claim("node-b", Set.of("m"), 3, Duration.ofMinutes(10)).size());
    }

    @Test
    void aStoppingBatchIsNotClaimedAndTerminatesWithItsUnrunLines() {
        String b = runningBatch(4);
        List<ClaimedRequest> claims = store.claim("node-a", Set.of("m"), 1, Duration.ofMinutes(1));
        ClaimedRequest c = claims.getFirst();
        store.complete(List.of(new RequestCompletion(b, c.lineNo(), c.leaseToken(), ok(1, 1))), true);
        assertTrue(store.requestExpiry(b));
        assertFalse(store.requestExpiry(b));
        assertEquals(List.of(), store.claim("node-a", Set.of("m"), 5, Duration.ofMinutes(1)));
        assertTrue(store.batchesToFinalize().contains(b));
        assertEquals(0, store.countActiveLeases(b));

        BatchTermination t = new BatchTermination(b, BatchStatus.IN_PROGRESS, BatchStatus.EXPIRED, 2000,
                null, null, 1, 3, "batch_expired", "too late");
        assertTrue(store.terminate(t, true));
        assertFalse(store.terminate(t, true), "the guard lets only one writer end a batch");
        Batch done = store.findBatch(b).orElseThrow().batch();
        assertEquals(BatchStatus.EXPIRED, done.status());
        assertEquals(2000L, done.expiredAt());
        assertEquals(new RequestCounts(4, 1, 3), done.requestCounts());
        List<FinishedLine> lines = new ArrayList<>();
        store.forEachLine(b, lines::add);
        assertEquals(4, lines.size());
        assertEquals(3, lines.stream().filter(l -> "batch_expired".equals(l.result().errorCode())).count());

        // Outbox: one event for the finished line, three for the unrun lines, one for the batch.
        List<OutboxEvent> events = store.pollOutbox(100);
        assertEquals(5, events.size());
        assertEquals(1, events.stream().filter(e -> e.batch() != null).count());
        assertEquals("expired", events.stream().filter(e -> e.batch() != null).findFirst().orElseThrow().batch().status());
        store.ackOutbox(events.stream().map(OutboxEvent::id).toList());
        assertTrue(store.pollOutbox(100).isEmpty());
    }

    @Test
    void finalizingIsGuardedByRemainingLines() {
        String b = runningBatch(2);
        assertFalse(store.beginFinalizing(b, 5), "lines are still pending");
        List<ClaimedRequest> claims = store.claim("n", Set.of("m"), 2, Duration.ofMinutes(1));
        store.complete(claims.stream().map(c -> new RequestCompletion(b, c.lineNo(), c.leaseToken(),
                StoredResult.response(500, "{\"error\":{}}", TokenUsage.ZERO))).toList(), false);
        assertEquals(0, store.unfinishedRequests());
        assertTrue(store.beginFinalizing(b, 5));
        Batch f = store.findBatch(b).orElseThrow().batch();
        assertEquals(BatchStatus.FINALIZING, f.status());
        assertEquals(new RequestCounts(2, 0, 2), f.requestCounts());
        FileRecord err = file("file-err", FilePurpose.BATCH_OUTPUT, 6);
        assertTrue(store.terminate(new BatchTermination(b, BatchStatus.FINALIZING, BatchStatus.COMPLETED, 6, null, err,
                0, 2, null, null), false));
        Batch done = store.findBatch(b).orElseThrow().batch();
        assertEquals("file-err", done.errorFileId());
        assertNull(done.outputFileId());
        assertNotNull(store.findFile("file-err").orElse(null));
        assertFalse(store.isInputOfActiveBatch(done.inputFileId()));
    }

    @Test
    void handlerFailuresAreRecordedPerBatch() {
        store.recordHandlerFailure(1, "h", "batch_z", "c1", "boom", 5);
        store.recordHandlerFailure(2, "h", "batch_z", null, "boom", 6);
        assertEquals(2, store.countHandlerFailures("batch_z"));
        assertEquals(0, store.countHandlerFailures("batch_other"));
    }
}
