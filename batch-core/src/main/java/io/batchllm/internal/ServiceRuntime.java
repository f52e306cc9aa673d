package io.batchllm.internal;

import io.batchllm.BatchOperations;
import io.batchllm.BatchStatus;
import io.batchllm.FileOperations;
import io.batchllm.InsufficientStorageException;
import io.batchllm.Page;
import io.batchllm.RateLimitExceededException;
import io.batchllm.ServiceClosedException;
import io.batchllm.ratelimit.RateLimitDecision;
import io.batchllm.ratelimit.RateLimiter;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.store.BatchRecord;
import io.batchllm.store.JobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The running service: builds the components from {@link Settings}, starts their threads, and stops
 * them in order on close. {@code BatchService} is its public face.
 */
public final class ServiceRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);
    /** The caller key used when none is given. */
    public static final String DEFAULT_CALLER = io.batchllm.BatchService.DEFAULT_CALLER;
    /** How often readiness may probe the disk and the store with a write. */
    private static final long STORAGE_CHECK_NANOS = 1_000_000_000L;

    private final Settings settings;
    private final JobStore store;
    private final FileStorage storage;
    private final ServiceMetrics metrics;
    private final BackendRegistry backends;
    private final Set<String> endpoints;
    private final Finalizer finalizer;
    private final HandlerDispatcher handlerDispatcher;
    private final Worker worker;
    private final Maintenance maintenance;
    private final ExecutorService validator = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("batchllm-validator").daemon().factory());
    private final FileOperations files;
    private final BatchOperations batches;
    private final Object changes = new Object();
    /** When {@link #storageProblem()} last probed (nanoTime; 0: never), and what it found. */
    private long storageCheckedAt;
    private String storageProblem;
    private final ThrottledLog storageFailures = new ThrottledLog(log);
    private volatile boolean closed;

    public ServiceRuntime(Settings settings) {
        this.settings = settings;
        try {
            Files.createDirectories(settings.dataDirectory());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot create data directory " + settings.dataDirectory() + ": " + e, e);
        }
        this.backends = new BackendRegistry(settings.backends(), settings.providers(), settings.models(),
                settings.backendName(), settings.threads(), settings.backendOptions());
        this.metrics = new ServiceMetrics(settings.meterRegistry(), backends::generatedTokens);
        backends.bindMeters(settings.meterRegistry());
        Set<String> eps = new LinkedHashSet<>();
        for (String m : backends.models()) {
            eps.addAll(backends.forModel(m).endpoints());
        }
        this.endpoints = Set.copyOf(eps);
        this.store = settings.jobStore().get();
        this.storage = new FileStorage(settings.dataDirectory());
        boolean outbox = !settings.handlers().isEmpty();
        this.finalizer = new Finalizer(store, storage, settings.clock(), metrics, outbox, id -> changed());
        this.handlerDispatcher = new HandlerDispatcher(store, settings.handlers(), settings.handlerRetry(), metrics,
                settings.clock(), settings.pollInterval(), settings.shutdownTimeout());
        int maxInFlight = settings.maxInFlight() > 0 ? settings.maxInFlight() : Math.max(1, backends.totalMaxInFlight());
        this.worker = new Worker(store, backends, storage, metrics, settings.nodeId(), maxInFlight,
                settings.leaseDuration(), settings.pollInterval(), outbox, ids -> finalizer.submit(ids),
                () -> {
                    if (outbox) {
                        handlerDispatcher.wake();
                    }
                });
        this.maintenance = new Maintenance(store, settings.clock(), finalizer, metrics, this::expireFile,
                settings.nodeId(), settings.leaseDuration());
        this.files = new DefaultFileOperations(this, null);
        this.batches = new DefaultBatchOperations(this, null);

        // Batches a previous run left mid-validation start over (validation is all or nothing).
        for (String id : store.batchIdsWithStatus(EnumSet.of(BatchStatus.VALIDATING))) {
            validateLater(id);
        }
        if (outbox) {
            handlerDispatcher.start();
        }
        worker.start();
        maintenance.start(settings.pollInterval());
        log.info("BatchLLM started: node {}, data directory {}, models {}, in-flight bound {}", settings.nodeId(),
                settings.dataDirectory().toAbsolutePath(), backends.models(), maxInFlight);
    }

    public Settings settings() {
        return settings;
    }

    public JobStore store() {
        return store;
    }

    FileStorage storage() {
        return storage;
    }

    ServiceMetrics metrics() {
        return metrics;
    }

    Finalizer finalizer() {
        return finalizer;
    }

    public FileOperations files() {
        return files;
    }

    public BatchOperations batches() {
        return batches;
    }

    /** The Files and Batches APIs limited to {@code tenant}'s objects; see {@link io.batchllm.TenantScope}. */
    public io.batchllm.TenantScope forTenant(String tenant) {
        if (tenant == null || tenant.isBlank()) {
            throw new IllegalArgumentException("tenant must not be blank");
        }
        return new Scoped(tenant, new DefaultFileOperations(this, tenant), new DefaultBatchOperations(this, tenant));
    }

    private record Scoped(String tenant, FileOperations files, BatchOperations batches)
            implements io.batchllm.TenantScope {
    }

    /** Whether an object owned by {@code owner} is visible to {@code tenant} (null: the unscoped view sees all). */
    static boolean visibleTo(String tenant, String owner) {
        return tenant == null || tenant.equals(owner);
    }

    public Set<String> models() {
        return backends.models();
    }

    Set<String> servedEndpoints() {
        return endpoints;
    }

    long nowSeconds() {
        return settings.clock().instant().getEpochSecond();
    }

    void ensureOpen() {
        if (closed) {
            throw new ServiceClosedException();
        }
    }

    /** Takes one unit of {@code caller}'s allowance for {@code what}, or throws a 429 saying when to retry. */
    void acquire(RateLimiter limiter, String caller, String what) {
        RateLimitDecision d = limiter.tryAcquire(caller, 1);
        if (!d.allowed()) {
            throw new RateLimitExceededException("Rate limit reached for " + what + " by '" + caller
                    + "': limit " + d.limit() + ". Try again in " + Math.max(1, d.resetAfter().toSeconds()) + "s.", d);
        }
    }

    static String caller(String key) {
        return key == null || key.isBlank() ? DEFAULT_CALLER : key;
    }

    static <T> Page<T> page(List<T> data, Function<T, String> id, boolean more) {
        if (data.isEmpty()) {
            return new Page<>(data, "", "", false);
        }
        return new Page<>(data, id.apply(data.getFirst()), id.apply(data.getLast()), more);
    }

    /** Wakes {@code await} callers: some batch changed. */
    void changed() {
        synchronized (changes) {
            changes.notifyAll();
        }
    }

    void awaitChange(long nanos) throws InterruptedException {
        synchronized (changes) {
            TimeUnit.NANOSECONDS.timedWait(changes, nanos);
        }
    }

    void validateLater(String batchId) {
        validator.execute(() -> {
            MDC.put("batch_id", batchId);
            try {
                validate(batchId);
            } catch (RuntimeException | Error e) {
                if (closed) {
                    // close() did not wait long enough; validation is all or nothing, so the batch is
                    // still validating and the next start validates it again.
                    log.info("validation of batch {} was stopped by shutdown; it restarts at the next start", batchId);
                } else {
                    log.error("validating batch {} failed unexpectedly: {}", batchId, e.toString(), e);
                }
            } finally {
                MDC.remove("batch_id");
            }
        });
    }

    private void validate(String batchId) {
        BatchRecord rec = store.findBatch(batchId).orElse(null);
        if (rec == null || rec.batch().status() != BatchStatus.VALIDATING) {
            if (rec != null && rec.batch().status() == BatchStatus.CANCELLING) {
                finalizer.submit(List.of(batchId));
            }
            return;
        }
        Path input = storage.path(rec.batch().inputFileId());
        InputValidator v = new InputValidator(rec.batch().endpoint(), settings.validation(), backends.models());
        long started = System.nanoTime();
        try (JobStore.RequestLoader loader = store.loadRequests(batchId)) {
            InputValidator.Outcome outcome = v.validate(input, loader);
            if (outcome.ok()) {
                if (loader.commit(outcome.model(), nowSeconds())) {
                    metrics.batchEntered(BatchStatus.IN_PROGRESS);
                    log.info("batch {} validated in {} ms: in progress", batchId, (System.nanoTime() - started) / 1_000_000);
                    worker.wake();
                    finalizer.submit(List.of(batchId)); // in case every line failed on its own
                } else {
                    finalizer.submit(List.of(batchId)); // cancelled while validating
                }
            } else {
                loader.close();
                if (store.failValidation(batchId, outcome.errors(), nowSeconds(), !settings.handlers().isEmpty())) {
                    metrics.batchEntered(BatchStatus.FAILED);
                    log.info("batch {} failed validation: {} errors, first: {}", batchId, outcome.errors().size(),
                            outcome.errors().getFirst());
                    handlerDispatcher.wake();
                } else {
                    finalizer.submit(List.of(batchId));
                }
            }
        }
        changed();
    }

    private void expireFile(String id) {
        if (store.markFileDeleted(id) && !store.isInputOfActiveBatch(id)) {
            storage.delete(id);
        }
    }

    /**
     * What keeps the service from doing its work now, one sentence each; empty when it is ready. See
     * {@link io.batchllm.BatchService#problems()}.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (closed) {
            problems.add("the service is closed");
            return problems;
        }
        for (String thread : worker.stalledThreads()) {
            problems.add("the worker thread " + thread + " has stopped, so no request runs; restart the service "
                    + "(the log says why it stopped)");
        }
        String storage = storageProblem();
        if (storage != null) {
            problems.add(storage);
        }
        if (backends.models().isEmpty()) {
            problems.add("no model has a backend");
        }
        return problems;
    }

    /**
     * Whether the job store answers a query, and the data directory and the job store can write: a
     * small write into each, at most once a second (readiness probes can come often). A full disk fails the calls that write, so a service
     * that cannot write is not ready, and turns ready again by itself once there is room.
     */
    private synchronized String storageProblem() {
        long now = System.nanoTime();
        if (storageCheckedAt != 0 && now - storageCheckedAt < STORAGE_CHECK_NANOS) {
            return storageProblem;
        }
        storageCheckedAt = now;
        storageProblem = null;
        try {
            store.listBatches(null, null, 1);
            storage.probe();
            store.probeWrite();
        } catch (InsufficientStorageException e) {
            storageProblem = e.getMessage(); // says that the disk is full and what to do
        } catch (RuntimeException e) {
            // The driver's text can name hosts, users and SQL: it goes to the log only.
            storageFailures.error("readiness: the job store or the data directory does not work", e);
            storageProblem = "the job store or the data directory does not work; the server log says why";
        }
        return storageProblem;
    }

    /** The in-flight count, for tests and the crash harness. */
    public long inFlight() {
        return worker.inFlight();
    }

    /** The backend serving a model, or null. */
    public InferenceBackend backend(String model) {
        return backends.forModel(model);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("BatchLLM stopping: letting in-flight work finish (up to {})", settings.shutdownTimeout());
        validator.shutdown();
        try {
            validator.awaitTermination(settings.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        maintenance.close();
        worker.shutdown(settings.shutdownTimeout());
        finalizer.close();
        handlerDispatcher.close();
        backends.close();
        storage.close();
        store.close();
        changed();
        log.info("BatchLLM stopped");
    }

    /** How long {@link #close()} lets in-flight work finish. */
    public Duration shutdownTimeout() {
        return settings.shutdownTimeout();
    }
}
