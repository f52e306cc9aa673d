package io.batchllm.store;

import io.batchllm.BatchError;
import io.batchllm.FilePurpose;
import io.batchllm.ListOrder;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Durable state of the service: files, batches, request rows with their results, and the outbox of
 * events for result handlers. Every state change a user can observe goes through here first.
 *
 * <p>Implementations must be thread safe and must make each method atomic. Methods that change a
 * batch's status are guarded: they name the status the batch must still have and return false when
 * another writer got there first. {@code JobStoreContract} (in the test sources) is the executable
 * specification; a new implementation should pass it.
 */
public interface JobStore extends AutoCloseable {

    // ---- files ----

    void insertFile(FileRecord file);

    /** The file, deleted or not. */
    Optional<FileRecord> findFile(String id);

    /**
     * Files not deleted, in creation order ({@code order}), starting after the file {@code afterId}
     * (which may itself be deleted), at most {@code limit}. An {@code afterId} that does not exist, or
     * (with an {@code owner}) is another owner's, gives an empty list.
     *
     * @param purpose only this purpose, or null
     * @param owner only this owner's files, or null for all
     */
    List<FileRecord> listFiles(FilePurpose purpose, String owner, String afterId, int limit, ListOrder order);

    /** Marks a file deleted; false if it was missing or already deleted. */
    boolean markFileDeleted(String id);

    /** Whether a batch that is not terminal reads this file. */
    boolean isInputOfActiveBatch(String fileId);

    // ---- batches ----

    void insertBatch(BatchRecord batch);

    Optional<BatchRecord> findBatch(String id);

    /**
     * Batches newest first, after the batch {@code afterId}, at most {@code limit}; {@code owner} null =
     * all. An {@code afterId} that does not exist, or is another owner's, gives an empty list.
     */
    List<BatchRecord> listBatches(String owner, String afterId, int limit);

    /** Ids of batches with one of these statuses, oldest first. */
    List<String> batchIdsWithStatus(Set<io.batchllm.BatchStatus> statuses);

    /** {@code validating → failed} with the validation errors; records the batch event when {@code outbox}. */
    boolean failValidation(String batchId, List<BatchError> errors, long at, boolean outbox);

    /** Ids of files whose {@code expires_at} is at or before {@code now} and that are not deleted yet. */
    List<String> expiredFiles(long now);

    /**
     * Starts loading a batch's request rows, all or nothing: the batch moves to {@code in_progress}
     * with all its rows at {@link RequestLoader#commit}, and until then nothing runs them. Rows that an
     * earlier, interrupted load of the batch left are deleted first. At most one loader holds a batch:
     * starting another one stops the first (its commit returns false).
     */
    RequestLoader loadRequests(String batchId);

    /**
     * Deletes the request rows of a batch that never left {@code validating} (a load stopped by a
     * cancel or a crash), in small transactions. Nothing is shown of such rows.
     */
    void discardRequests(String batchId);

    /** {@code validating|in_progress → cancelling}. */
    boolean requestCancel(String batchId, long at);

    /** Marks an {@code in_progress} batch whose window passed as stopping; false if it was not running. */
    boolean requestExpiry(String batchId);

    /** Ids of {@code validating} or {@code in_progress} batches whose {@code expires_at} is at or before {@code now}. */
    List<String> dueForExpiry(long now);

    /** Batches that finalization must look at: finalizing, cancelling, stopping, or running with no line left. */
    List<String> batchesToFinalize();

    /** Lines of running batches not finished yet (the queue depth). */
    long unfinishedRequests();

    /** {@code in_progress → finalizing}, only if no line is left to run. */
    boolean beginFinalizing(String batchId, long at);

    /** Rows of the batch leased to a worker whose lease has not expired (by the database's clock). */
    long countActiveLeases(String batchId);

    /** Every line of the batch in line order, with its result if it has one. Streams; holds no list. */
    void forEachLine(String batchId, Consumer<FinishedLine> consumer);

    /**
     * Writes the result files' records and moves the batch to its terminal status, guarded by
     * {@link BatchTermination#from()}; lines that never ran are stored as finished with the unrun error.
     * Also records the outbox events for them and for the batch when {@code outbox} is true.
     */
    boolean terminate(BatchTermination termination, boolean outbox);

    // ---- request rows ----

    /**
     * Leases up to {@code max} runnable rows (pending, or leased with an expired lease) of
     * {@code in_progress} batches whose model is in {@code models}, oldest batch first.
     *
     * @param owner this worker's id
     * @param lease how long the lease lasts, by the database's clock
     */
    List<ClaimedRequest> claim(String owner, Set<String> models, int max, Duration lease);

    /** Extends every lease {@code owner} holds; returns how many. */
    int renewLeases(String owner, Duration lease);

    /** Gives back every lease {@code owner} holds (graceful shutdown); returns how many. */
    int releaseLeases(String owner);

    /**
     * Stores results in one transaction: each row is marked done only if its lease token still
     * matches, the batch counters and usage move with it, and when {@code outbox} is true an outbox
     * event is recorded for each stored row.
     */
    CompletionResult complete(List<RequestCompletion> completions, boolean outbox);

    // ---- outbox ----

    /** Up to {@code max} undelivered events, oldest first. */
    List<OutboxEvent> pollOutbox(int max);

    /** Removes delivered events. */
    void ackOutbox(List<Long> eventIds);

    /** Records that a handler gave up on an event after its retries. */
    void recordHandlerFailure(long eventId, String handler, String batchId, String customId, String error, long at);

    /** How many handler failures are recorded for a batch (for operators and tests). */
    long countHandlerFailures(String batchId);

    /**
     * Commits a trivial change, to learn whether the database can write now (readiness, and recovery
     * after a full disk).
     */
    void probeWrite();

    /** Releases connections. */
    @Override
    void close();

    /** Loads a batch's rows; not thread safe. */
    interface RequestLoader extends AutoCloseable {
        /** Adds a row; rows may be stored early, but nothing runs them before commit. */
        void add(RequestRow row);

        /**
         * Moves the batch {@code validating → in_progress} with its rows, model and counts. Lines added
         * with a pre-failed result count as failed already. Closes the loader.
         *
         * @return false (and the rows removed again) if the batch was no longer validating (cancelled
         *     meanwhile) or another loader took it over
         */
        boolean commit(String model, long at);

        /** Unless committed, removes the rows this loader stored. Idempotent. */
        @Override
        void close();
    }
}
