package io.batchllm.internal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.batchllm.Batch;
import io.batchllm.BatchStatus;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.store.BatchRecord;
import io.batchllm.store.BatchTermination;
import io.batchllm.store.FileRecord;
import io.batchllm.store.FinishedLine;
import io.batchllm.store.JobStore;
import io.batchllm.store.StopReason;
import io.batchllm.store.StoredResult;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Ends batches: when every line of a running batch is done ({@code in_progress → finalizing →
 * completed}), when a cancel was asked ({@code cancelling → cancelled}), or when the completion window
 * passed ({@code in_progress → expired}). It writes the output and error files (O1–O6) from the stored
 * results, then records them and the terminal status in one guarded transaction.
 *
 * <p>Idempotent and restartable: it can be asked about any batch any number of times, and a crash
 * midway leaves the batch where it was, to be finished on the next pass.
 */
public final class Finalizer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Finalizer.class);
    private static final JsonFactory JSON = new JsonFactory();

    private final JobStore store;
    private final FileStorage storage;
    private final Clock clock;
    private final ServiceMetrics metrics;
    private final boolean outbox;
    private final Consumer<String> onTerminal;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("batchllm-finalizer").daemon().factory());
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final ThrottledLog failures = new ThrottledLog(log);

    public Finalizer(JobStore store, FileStorage storage, Clock clock, ServiceMetrics metrics, boolean outbox,
                     Consumer<String> onTerminal) {
        this.store = store;
        this.storage = storage;
        this.clock = clock;
        this.metrics = metrics;
        this.outbox = outbox;
        this.onTerminal = onTerminal;
    }

    /** Looks at these batches soon (each at most once in the queue). */
    public void submit(Iterable<String> batchIds) {
        for (String id : batchIds) {
            if (queued.add(id)) {
                try {
                    executor.execute(() -> {
                        queued.remove(id);
                        runSafely(id);
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    queued.remove(id);
                }
            }
        }
    }

    private void runSafely(String id) {
        MDC.put("batch_id", id);
        try {
            finalizeBatch(id);
        } catch (RuntimeException | Error e) {
            failures.error("finalizing batch " + id + " failed; it will be retried", e);
        } finally {
            MDC.remove("batch_id");
        }
    }

    /** One pass over one batch; does nothing if the batch is not ready. */
    void finalizeBatch(String id) {
        BatchRecord rec = store.findBatch(id).orElse(null);
        if (rec == null) {
            return;
        }
        Batch b = rec.batch();
        long now = now();
        switch (b.status()) {
            case IN_PROGRESS -> {
                if (rec.stopReason() == StopReason.EXPIRE) {
                    if (store.countActiveLeases(id) == 0) {
                        end(rec, BatchStatus.IN_PROGRESS, BatchStatus.EXPIRED, "batch_expired",
                                "This request could not be executed before the completion window expired.");
                    }
                } else if (b.requestCounts().completed() + b.requestCounts().failed() >= b.requestCounts().total()) {
                    if (store.beginFinalizing(id, now)) {
                        metrics.batchEntered(BatchStatus.FINALIZING);
                        log.info("batch {}: all {} lines done; finalizing", id, b.requestCounts().total());
                        end(rec, BatchStatus.FINALIZING, BatchStatus.COMPLETED, null, null);
                    }
                }
            }
            case FINALIZING -> end(rec, BatchStatus.FINALIZING, BatchStatus.COMPLETED, null, null);
            case CANCELLING -> {
                if (b.inProgressAt() == null) {
                    // Cancelled while validating: it has no lines (OpenAI counts none). A load stopped by
                    // the cancel or by a crash may have left rows; they were never shown, so they go.
                    store.discardRequests(id);
                    end(rec, BatchStatus.CANCELLING, BatchStatus.CANCELLED, null, null);
                } else if (store.countActiveLeases(id) == 0) {
                    end(rec, BatchStatus.CANCELLING, BatchStatus.CANCELLED, "batch_cancelled",
                            "This request was not executed because the batch was cancelled.");
                }
            }
            default -> {
                // validating: nothing to finalize yet; terminal: already done.
            }
        }
    }

    private void end(BatchRecord rec, BatchStatus from, BatchStatus to, String unrunCode, String unrunMessage) {
        Batch b = rec.batch();
        String outputId = Ids.file();
        String errorId = Ids.file();
        Path outputTmp = storage.newTemporary(outputId);
        Path errorTmp = storage.newTemporary(errorId);
        ResultFileWriter out = new ResultFileWriter(outputTmp);
        ResultFileWriter err = new ResultFileWriter(errorTmp);
        long[] unrun = new long[1];
        try {
            store.forEachLine(b.id(), line -> {
                StoredResult r = line.result();
                if (r == null) {
                    if (unrunCode == null) {
                        throw new IllegalStateException("line " + line.lineNo() + " has no result in a finished batch");
                    }
                    unrun[0]++;
                    err.noResponse(line, unrunCode, unrunMessage);
                } else if (r.statusCode() == 0) {
                    err.noResponse(line, r.errorCode(), r.errorMessage());
                } else if (r.succeeded()) {
                    out.response(line, r);
                } else {
                    err.response(line, r);
                }
            });
            out.close();
            err.close();
            long at = now();
            Long expiresAt = rec.outputExpiresAfterSeconds() == null ? null : at + rec.outputExpiresAfterSeconds();
            FileRecord outputFile = out.lines == 0 ? null : resultFile(outputId, b.id() + "_output.jsonl",
                    out.bytes, at, expiresAt, rec.owner());
            FileRecord errorFile = err.lines == 0 ? null : resultFile(errorId, b.id() + "_error.jsonl",
                    err.bytes, at, expiresAt, rec.owner());
            if (outputFile != null) {
                storage.commit(outputTmp, outputId);
            }
            if (errorFile != null) {
                storage.commit(errorTmp, errorId);
            }
            BatchTermination t = new BatchTermination(b.id(), from, to, at, outputFile, errorFile, out.lines, err.lines,
                    unrunCode, unrunMessage);
            if (store.terminate(t, outbox)) {
                metrics.batchEntered(to);
                metrics.requestsUnrun(unrun[0]);
                log.info("batch {} {}: {} succeeded, {} failed{}", b.id(), to.wire(), out.lines, err.lines,
                        unrun[0] > 0 ? " (" + unrun[0] + " never ran)" : "");
                releaseInput(b.inputFileId());
                onTerminal.accept(b.id());
            } else {
                // Someone else ended it first; our files are not referenced.
                storage.delete(outputId);
                storage.delete(errorId);
            }
        } finally {
            out.close();
            err.close();
            deleteQuietly(outputTmp);
            deleteQuietly(errorTmp);
        }
    }

    private void releaseInput(String inputFileId) {
        storage.release(inputFileId);
        store.findFile(inputFileId).ifPresent(f -> {
            if (f.deleted() && !store.isInputOfActiveBatch(inputFileId)) {
                storage.delete(inputFileId);
            }
        });
    }

    private static FileRecord resultFile(String id, String name, long bytes, long at, Long expiresAt, String owner) {
        return new FileRecord(new FileObject(id, bytes, at, name, FilePurpose.BATCH_OUTPUT, "processed", expiresAt, null),
                owner, false);
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("could not delete {}: {}", p, e.getMessage());
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes one result file, line by line (O1–O3), opening it only when the first line comes. */
    private static final class ResultFileWriter {
        private final Path path;
        private OutputStream stream;
        private JsonGenerator gen;
        long lines;
        long bytes;

        ResultFileWriter(Path path) {
            this.path = path;
        }

        private JsonGenerator gen() throws IOException {
            if (gen == null) {
                stream = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
                gen = JSON.createGenerator(stream, JsonEncoding.UTF8);
                gen.setRootValueSeparator(null);
            }
            return gen;
        }

        /** {@code {id, custom_id, response:{status_code, request_id, body}, error:null}}. */
        void response(FinishedLine line, StoredResult r) {
            try {
                JsonGenerator g = gen();
                g.writeStartObject();
                g.writeStringField("id", Ids.batchRequest());
                g.writeStringField("custom_id", line.customId());
                g.writeObjectFieldStart("response");
                g.writeNumberField("status_code", r.statusCode());
                g.writeStringField("request_id", Ids.request());
                g.writeFieldName("body");
                g.writeRawValue(r.body());
                g.writeEndObject();
                g.writeNullField("error");
                g.writeEndObject();
                g.writeRaw('\n');
                lines++;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {@code {id, custom_id, response:null, error:{code, message}}}. */
        void noResponse(FinishedLine line, String code, String message) {
            try {
                JsonGenerator g = gen();
                g.writeStartObject();
                g.writeStringField("id", Ids.batchRequest());
                g.writeStringField("custom_id", line.customId());
                g.writeNullField("response");
                g.writeObjectFieldStart("error");
                g.writeStringField("code", code);
                g.writeStringField("message", message);
                g.writeEndObject();
                g.writeEndObject();
                g.writeRaw('\n');
                lines++;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void close() {
            if (gen == null) {
                return;
            }
            try {
                gen.close();
                stream.close();
                bytes = Files.size(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                gen = null;
            }
        }
    }
}
