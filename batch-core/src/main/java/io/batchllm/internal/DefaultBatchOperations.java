package io.batchllm.internal;

import io.batchllm.Batch;
import io.batchllm.BatchCreateRequest;
import io.batchllm.BatchOperations;
import io.batchllm.BatchStatus;
import io.batchllm.BatchUsage;
import io.batchllm.ConflictException;
import io.batchllm.FilePurpose;
import io.batchllm.InvalidRequestException;
import io.batchllm.NotFoundException;
import io.batchllm.Page;
import io.batchllm.RequestCounts;
import io.batchllm.store.BatchRecord;
import io.batchllm.store.FileRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The Batches API over the job store. */
final class DefaultBatchOperations implements BatchOperations {
    static final long WINDOW_24H_SECONDS = 86_400;
    static final int MAX_METADATA_PAIRS = 16;
    static final int MAX_METADATA_KEY = 64;
    static final int MAX_METADATA_VALUE = 512;
    static final int MAX_LIST_LIMIT = 100;

    private final ServiceRuntime rt;
    /** The tenant this view is limited to, or null for every batch (the unscoped, admin view). */
    private final String tenant;

    DefaultBatchOperations(ServiceRuntime rt, String tenant) {
        this.rt = rt;
        this.tenant = tenant;
    }

    @Override
    public Batch create(BatchCreateRequest r) {
        rt.ensureOpen();
        if (!BatchCreateRequest.COMPLETION_WINDOW_24H.equals(r.completionWindow())) {
            throw new InvalidRequestException("completion_window", "completion_window must be '24h', got '"
                    + r.completionWindow() + "'");
        }
        String endpoint = r.endpoint().path();
        if (!rt.servedEndpoints().contains(endpoint)) {
            throw new InvalidRequestException("endpoint", "The endpoint '" + endpoint + "' is not served here. "
                    + "Served endpoints: " + String.join(", ", rt.servedEndpoints().stream().sorted().toList()) + ".");
        }
        checkMetadata(r.metadata());
        Long outputExpiry = r.outputExpiresAfterSeconds();
        if (outputExpiry != null && (outputExpiry < DefaultFileOperations.MIN_EXPIRY_SECONDS
                || outputExpiry > DefaultFileOperations.MAX_EXPIRY_SECONDS)) {
            throw new InvalidRequestException("output_expires_after[seconds]", "output_expires_after[seconds] must be "
                    + "between 3600 and 2592000, got " + outputExpiry);
        }
        FileRecord input = rt.store().findFile(r.inputFileId())
                .filter(f -> !f.deleted() && ServiceRuntime.visibleTo(tenant, f.owner())).orElseThrow(() ->
                new InvalidRequestException("input_file_id", "No such File object: " + r.inputFileId()));
        if (input.file().purpose() != FilePurpose.BATCH) {
            throw new InvalidRequestException("input_file_id", "The file " + r.inputFileId() + " has purpose '"
                    + input.file().purpose().wire() + "'; a batch needs a file uploaded with purpose 'batch'.");
        }
        String caller = tenant != null ? tenant : ServiceRuntime.caller(r.callerKey());
        rt.acquire(rt.settings().batchRateLimiter(), caller, "batch creation");
        long now = rt.nowSeconds();
        Batch b = new Batch(Ids.batch(), endpoint, null, r.inputFileId(), r.completionWindow(), BatchStatus.VALIDATING,
                null, null, now, null, now + WINDOW_24H_SECONDS, null, null, null, null, null, null,
                new RequestCounts(0, 0, 0), r.metadata(), null, new BatchUsage(0, 0, 0));
        rt.store().insertBatch(new BatchRecord(b, null, outputExpiry, caller));
        rt.metrics().batchEntered(BatchStatus.VALIDATING);
        rt.validateLater(b.id());
        return b;
    }

    private static void checkMetadata(Map<String, String> m) {
        if (m == null) {
            return;
        }
        if (m.size() > MAX_METADATA_PAIRS) {
            throw new InvalidRequestException("metadata", "metadata may have at most " + MAX_METADATA_PAIRS
                    + " pairs, got " + m.size());
        }
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (e.getKey().length() > MAX_METADATA_KEY) {
                throw new InvalidRequestException("metadata", "metadata keys may be at most " + MAX_METADATA_KEY
                        + " characters; '" + e.getKey().substring(0, 20) + "…' has " + e.getKey().length());
            }
            if (e.getValue() == null || e.getValue().length() > MAX_METADATA_VALUE) {
                throw new InvalidRequestException("metadata", "metadata values must be strings of at most "
                        + MAX_METADATA_VALUE + " characters; the value of '" + e.getKey() + "' is not");
            }
        }
    }

    @Override
    public Batch get(String id) {
        rt.ensureOpen();
        // Another tenant's batch is "not found", never "forbidden": its existence must not leak.
        return rt.store().findBatch(id).filter(r -> ServiceRuntime.visibleTo(tenant, r.owner()))
                .map(BatchRecord::batch).orElseThrow(() -> NotFoundException.batch(id));
    }

    @Override
    public Page<Batch> list(String after, int limit) {
        rt.ensureOpen();
        if (limit < 1 || limit > MAX_LIST_LIMIT) {
            throw new InvalidRequestException("limit", "limit must be between 1 and " + MAX_LIST_LIMIT + ", got " + limit);
        }
        List<BatchRecord> rows = rt.store().listBatches(tenant, after, limit + 1);
        boolean more = rows.size() > limit;
        List<Batch> data = rows.subList(0, Math.min(rows.size(), limit)).stream().map(BatchRecord::batch).toList();
        return ServiceRuntime.page(data, Batch::id, more);
    }

    @Override
    public Batch cancel(String id) {
        Batch b = get(id);
        if (b.status() == BatchStatus.CANCELLING) {
            return b;
        }
        if (b.status().isTerminal() || b.status() == BatchStatus.FINALIZING) {
            throw new ConflictException("Cannot cancel a batch with status '" + b.status().wire() + "'.");
        }
        if (rt.store().requestCancel(id, rt.nowSeconds())) {
            rt.metrics().batchEntered(BatchStatus.CANCELLING);
            rt.finalizer().submit(List.of(id));
            return get(id);
        }
        // Lost a race with validation failing or the last line finishing: answer for the new state.
        return cancel(id);
    }

    @Override
    public Batch await(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Batch b = get(id);
            long left = deadline - System.nanoTime();
            if (b.status().isTerminal() || left <= 0) {
                return b;
            }
            rt.awaitChange(Math.min(left, Duration.ofMillis(200).toNanos()));
        }
    }
}
