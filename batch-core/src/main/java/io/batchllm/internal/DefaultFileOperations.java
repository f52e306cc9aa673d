package io.batchllm.internal;

import io.batchllm.FileDeleted;
import io.batchllm.FileListQuery;
import io.batchllm.FileObject;
import io.batchllm.FileOperations;
import io.batchllm.FilePurpose;
import io.batchllm.FileUpload;
import io.batchllm.InvalidRequestException;
import io.batchllm.NotFoundException;
import io.batchllm.Page;
import io.batchllm.store.FileRecord;
import io.batchllm.store.JobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/** The Files API over the job store and the file storage. */
final class DefaultFileOperations implements FileOperations {
    /** F5: batch input files expire after 30 days unless told otherwise. */
    static final long BATCH_FILE_DEFAULT_EXPIRY_SECONDS = 30L * 24 * 3600;
    static final long MIN_EXPIRY_SECONDS = 3600;
    static final long MAX_EXPIRY_SECONDS = 2_592_000;

    private final ServiceRuntime rt;
    /** The tenant this view is limited to, or null for every file (the unscoped, admin view). */
    private final String tenant;

    DefaultFileOperations(ServiceRuntime rt, String tenant) {
        this.rt = rt;
        this.tenant = tenant;
    }

    @Override
    public FileObject upload(FileUpload upload) {
        rt.ensureOpen();
        FilePurpose purpose = upload.purpose();
        if (!purpose.uploadable()) {
            throw new InvalidRequestException("purpose", "'" + purpose.wire() + "' is set by the service and cannot "
                    + "be uploaded. Expected one of: assistants, batch, fine-tune, vision, user_data, evals.");
        }
        if (purpose == FilePurpose.BATCH && !upload.filename().toLowerCase(Locale.ROOT).endsWith(".jsonl")) {
            throw new InvalidRequestException("file", "Invalid file format for Batch API. Must be .jsonl");
        }
        Long expiresAfter = upload.expiresAfterSeconds();
        if (expiresAfter != null && (expiresAfter < MIN_EXPIRY_SECONDS || expiresAfter > MAX_EXPIRY_SECONDS)) {
            throw new InvalidRequestException("expires_after[seconds]", "expires_after[seconds] must be between "
                    + MIN_EXPIRY_SECONDS + " and " + MAX_EXPIRY_SECONDS + ", got " + expiresAfter);
        }
        // A tenant's upload is owned by the tenant, whatever caller key it names.
        String caller = tenant != null ? tenant : ServiceRuntime.caller(upload.callerKey());
        rt.acquire(rt.settings().uploadRateLimiter(), caller, "file uploads");
        long cap = purpose == FilePurpose.BATCH ? rt.settings().maxBatchFileBytes() : rt.settings().maxFileBytes();
        String id = Ids.file();
        long bytes;
        try (InputStream in = upload.content()) {
            bytes = rt.storage().store(id, in, cap, purpose == FilePurpose.BATCH ? "the batch input limit"
                    : "the file size limit");
        } catch (IOException e) {
            throw new UncheckedIOException("upload failed: " + e.getMessage(), e);
        }
        long now = rt.nowSeconds();
        Long expiresAt = expiresAfter != null ? Long.valueOf(now + expiresAfter)
                : purpose == FilePurpose.BATCH ? Long.valueOf(now + BATCH_FILE_DEFAULT_EXPIRY_SECONDS) : null;
        FileObject file = new FileObject(id, bytes, now, upload.filename(), purpose, "processed", expiresAt, null);
        try {
            rt.store().insertFile(new FileRecord(file, caller, false));
        } catch (RuntimeException e) {
            rt.storage().delete(id);
            throw e;
        }
        return file;
    }

    @Override
    public FileObject get(String id) {
        return live(id).file();
    }

    private FileRecord live(String id) {
        rt.ensureOpen();
        FileRecord r = rt.store().findFile(id).orElseThrow(() -> NotFoundException.file(id));
        // Another tenant's file is "not found", never "forbidden": its existence must not leak.
        if (r.deleted() || !ServiceRuntime.visibleTo(tenant, r.owner())) {
            throw NotFoundException.file(id);
        }
        return r;
    }

    @Override
    public Page<FileObject> list(FileListQuery q) {
        rt.ensureOpen();
        List<FileRecord> rows = rt.store().listFiles(q.purpose(), tenant, q.after(), q.limit() + 1, q.order());
        boolean more = rows.size() > q.limit();
        List<FileObject> data = rows.subList(0, Math.min(rows.size(), q.limit())).stream().map(FileRecord::file).toList();
        return ServiceRuntime.page(data, FileObject::id, more);
    }

    @Override
    public InputStream content(String id) {
        live(id);
        return rt.storage().open(id);
    }

    @Override
    public FileDeleted delete(String id) {
        live(id);
        if (!rt.store().markFileDeleted(id)) {
            throw NotFoundException.file(id);
        }
        // A running batch still reads its input file: keep the bytes until it ends (the finalizer
        // removes them then).
        if (!rt.store().isInputOfActiveBatch(id)) {
            rt.storage().delete(id);
        }
        return new FileDeleted(id, true);
    }
}
