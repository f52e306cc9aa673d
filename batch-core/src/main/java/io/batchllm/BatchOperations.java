package io.batchllm;

import java.time.Duration;

/** The Batches API (B1–B16), in-process. Obtained from {@link BatchService#batches()}; thread safe. */
public interface BatchOperations {

    /**
     * Creates a batch in {@code validating}. Validation runs in the background: the batch then moves
     * to {@code in_progress}, or to {@code failed} with line-numbered {@code errors}.
     *
     * @throws InvalidRequestException bad parameters, an unknown input file or one not of purpose batch
     * @throws RateLimitExceededException the caller creates batches too often
     */
    Batch create(BatchCreateRequest request);

    /** Creates a batch with a 24h window and no metadata. */
    default Batch create(String inputFileId, Endpoint endpoint) {
        return create(BatchCreateRequest.of(inputFileId, endpoint));
    }

    /** @throws NotFoundException no such batch */
    Batch get(String id);

    /**
     * Batches, newest first.
     *
     * @param after the id of the last batch of the previous page, or null
     * @param limit 1 to 100
     */
    Page<Batch> list(String after, int limit);

    /** The first page of up to 20 batches. */
    default Page<Batch> list() {
        return list(null, 20);
    }

    /**
     * Asks a batch to stop: it moves to {@code cancelling} at once and to {@code cancelled} when its
     * in-flight lines have finished. Finished lines go to the output/error files, unrun ones to the
     * error file as {@code batch_cancelled}. Cancelling a {@code cancelling} batch is a no-op.
     *
     * @throws ConflictException the batch is already completed, failed, expired or cancelled
     * @throws NotFoundException no such batch
     */
    Batch cancel(String id);

    /**
     * Waits until the batch reaches a terminal status, or until {@code timeout} passes, and returns
     * its latest state; check {@link BatchStatus#isTerminal()} to tell the two apart.
     *
     * @throws NotFoundException no such batch
     */
    Batch await(String id, Duration timeout) throws InterruptedException;
}
