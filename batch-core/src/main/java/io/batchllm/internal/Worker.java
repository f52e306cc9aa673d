package io.batchllm.internal;

import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.batchllm.store.ClaimedRequest;
import io.batchllm.store.CompletionResult;
import io.batchllm.store.JobStore;
import io.batchllm.store.RequestCompletion;
import io.batchllm.store.StoredResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Moves request rows from the store through the backends and back.
 *
 * <p>Two threads. The <b>dispatcher</b> claims runnable rows (leased, with a fencing token) while
 * fewer than {@code maxInFlight} are outstanding, reads their bodies from the input files and hands
 * them to the backend serving their model, many at once so that the backend can batch them. The
 * <b>writer</b> collects finished results and stores them in groups, one transaction per group, each
 * row marked done in the same transaction as its result (group commit: one transaction per result
 * would cap throughput at the database's commit rate).
 *
 * <p>The in-flight bound is also the crash bound: after a kill, at most {@code maxInFlight} rows were
 * leased and unstored, so at most that many run again.
 *
 * <p>Neither thread dies of a failure, {@link Error}s such as {@link OutOfMemoryError} included: a
 * request whose body or backend call fails gets a 500 result and the others go on (a group the backend
 * rejects is submitted again one request at a time), and a failing store is retried after a pause,
 * logged at most every 30 s. {@link #stalledThreads()} names a thread that ended anyway, which makes
 * the service not ready.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    /** Results stored per transaction at most. */
    static final int MAX_GROUP = 2048;

    private final JobStore store;
    private final BackendRegistry backends;
    private final FileStorage files;
    private final ServiceMetrics metrics;
    private final String owner;
    private final int maxInFlight;
    private final Duration lease;
    private final Duration idlePoll;
    private final boolean outbox;
    private final Consumer<Set<String>> onBatchesReady;
    private final Runnable onStored;

    private final LinkedBlockingQueue<Done> done = new LinkedBlockingQueue<>();
    private final AtomicLong inFlight;
    private final Object signal = new Object();
    private volatile boolean claiming = true;
    private volatile boolean writing = true;
    private boolean woken;
    private final Thread dispatcher;
    private final Thread writer;
    private final ThrottledLog dispatchFailures = new ThrottledLog(log);
    private final ThrottledLog storeFailures = new ThrottledLog(log);

    /** A finished request waiting to be stored. */
    private record Done(ClaimedRequest claim, InferenceResult result, long startedNanos) {
    }

    public Worker(JobStore store, BackendRegistry backends, FileStorage files, ServiceMetrics metrics, String owner,
                  int maxInFlight, Duration lease, Duration idlePoll, boolean outbox,
                  Consumer<Set<String>> onBatchesReady, Runnable onStored) {
        this.store = store;
        this.backends = backends;
        this.files = files;
        this.metrics = metrics;
        this.owner = owner;
        this.maxInFlight = maxInFlight;
        this.lease = lease;
        this.idlePoll = idlePoll;
        this.outbox = outbox;
        this.onBatchesReady = onBatchesReady;
        this.onStored = onStored;
        this.inFlight = metrics.inFlight();
        this.dispatcher = Thread.ofPlatform().name("batchllm-dispatcher").daemon().unstarted(this::dispatchLoop);
        this.writer = Thread.ofPlatform().name("batchllm-writer").daemon().unstarted(this::writeLoop);
    }

    public void start() {
        dispatcher.start();
        writer.start();
    }

    /** Tells the dispatcher that work may be waiting (a batch started, capacity freed). */
    public void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    /** Requests handed to backends and not yet stored. */
    public long inFlight() {
        return inFlight.get();
    }

    private void dispatchLoop() {
        // Claim in chunks of a quarter of the bound: big enough to amortize a claim transaction,
        // small enough that the backend is refilled before it drains.
        int chunk = Math.max(1, Math.min(512, maxInFlight / 4));
        while (claiming) {
            try {
                int free = (int) (maxInFlight - inFlight.get());
                if (free >= Math.min(chunk, maxInFlight)) {
                    List<ClaimedRequest> claims = store.claim(owner, backends.models(), free, lease);
                    if (!claims.isEmpty()) {
                        inFlight.addAndGet(claims.size());
                        dispatch(claims);
                        continue;
                    }
                }
                awaitSignal(idlePoll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                dispatchFailures.error("dispatcher: could not claim requests; retrying", e);
                try {
                    awaitSignal(idlePoll.toMillis());
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void awaitSignal(long millis) throws InterruptedException {
        synchronized (signal) {
            if (!woken) {
                signal.wait(Math.max(1, millis));
            }
            woken = false;
        }
    }

    /** Hands the claims to their backends; every claim ends with a future or a result, whatever fails. */
    private void dispatch(List<ClaimedRequest> claims) {
        long now = System.nanoTime();
        Map<InferenceBackend, List<ClaimedRequest>> groups = new LinkedHashMap<>();
        for (ClaimedRequest c : claims) {
            InferenceBackend b = backends.forModel(c.model());
            if (b == null) {
                // The backend for this model went away since validation (a restart with other models).
                finish(c, InferenceResult.error(503, "server_error", "model_unavailable", "model",
                        "model '" + c.model() + "' is not served by this node"), now);
                continue;
            }
            groups.computeIfAbsent(b, k -> new ArrayList<>()).add(c);
        }
        for (Map.Entry<InferenceBackend, List<ClaimedRequest>> g : groups.entrySet()) {
            List<ClaimedRequest> group = g.getValue();
            List<InferenceRequest> requests = new ArrayList<>(group.size());
            List<ClaimedRequest> sent = new ArrayList<>(group.size());
            for (ClaimedRequest c : group) {
                try {
                    String body = files.read(c.inputFileId(), c.bodyOffset(), c.bodyLength());
                    requests.add(new InferenceRequest(c.batchId() + "#" + c.lineNo(), c.endpoint(), c.model(), body));
                    sent.add(c);
                } catch (RuntimeException | Error e) {
                    finish(c, InferenceResult.error(500, "server_error", "input_unreadable", null,
                            "could not read the request body: " + e), now);
                }
            }
            try {
                attach(sent, submit(g.getKey(), requests), now);
            } catch (RuntimeException | Error e) {
                if (requests.size() == 1) {
                    finish(sent.getFirst(), backendFailure(e), now);
                    continue;
                }
                // One bad request (an OutOfMemoryError preparing it, say) must not fail the others: submit
                // them one at a time, so that only the ones the backend rejects alone fail. Work the
                // backend queued before it threw is never seen, so no line gets two results.
                dispatchFailures.error("the backend rejected a group of " + requests.size() + " requests; "
                        + "submitting them one at a time", e);
                for (int i = 0; i < sent.size(); i++) {
                    try {
                        attach(List.of(sent.get(i)), submit(g.getKey(), List.of(requests.get(i))), now);
                    } catch (RuntimeException | Error single) {
                        finish(sent.get(i), backendFailure(single), now);
                    }
                }
            }
        }
    }

    private static List<CompletableFuture<InferenceResult>> submit(InferenceBackend backend,
                                                                    List<InferenceRequest> requests) {
        List<CompletableFuture<InferenceResult>> futures = backend.submit(requests);
        if (futures.size() != requests.size()) {
            throw new IllegalStateException("backend returned " + futures.size() + " futures for "
                    + requests.size() + " requests");
        }
        return futures;
    }

    private void attach(List<ClaimedRequest> sent, List<CompletableFuture<InferenceResult>> futures, long now) {
        for (int i = 0; i < sent.size(); i++) {
            ClaimedRequest c = sent.get(i);
            futures.get(i).whenComplete((r, ex) -> finish(c, ex == null && r != null ? r : backendFailure(ex), now));
        }
    }

    private static InferenceResult backendFailure(Throwable ex) {
        return InferenceResult.error(500, "server_error", "backend_error", null,
                "the inference backend failed: " + (ex == null ? "no result" : ex.toString()));
    }

    private void finish(ClaimedRequest c, InferenceResult r, long startedNanos) {
        done.add(new Done(c, r, startedNanos));
    }

    private void writeLoop() {
        List<Done> group = new ArrayList<>(MAX_GROUP);
        while (writing || !done.isEmpty()) {
            try {
                Done first = done.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                group.add(first);
                done.drainTo(group, MAX_GROUP - 1);
                store(group);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                // The rows stay leased; when their leases run out another claim re-runs them.
                storeFailures.error("could not store " + group.size() + " results", e);
                inFlight.addAndGet(-group.size());
            } finally {
                group.clear();
            }
        }
    }

    private void store(List<Done> group) {
        List<RequestCompletion> completions = new ArrayList<>(group.size());
        for (Done d : group) {
            InferenceResult r = d.result;
            completions.add(new RequestCompletion(d.claim.batchId(), d.claim.lineNo(), d.claim.leaseToken(),
                    StoredResult.response(r.statusCode(), r.body(), r.usage())));
        }
        CompletionResult stored = store.complete(completions, outbox);
        long now = System.nanoTime();
        int accepted = stored.accepted().size();
        int a = 0;
        for (int j = 0; j < group.size(); j++) {
            Done d = group.get(j);
            // accepted is an ordered subsequence of completions
            if (a < accepted && stored.accepted().get(a) == completions.get(j)) {
                a++;
                metrics.requestFinished(d.result.succeeded(), d.result.usage().promptTokens(),
                        d.result.usage().completionTokens(), Duration.ofNanos(now - d.startedNanos));
            } else {
                metrics.staleCompletion();
                MDC.put("batch_id", d.claim.batchId());
                log.debug("discarded the result of line {}: its lease had passed on", d.claim.lineNo());
                MDC.remove("batch_id");
            }
        }
        inFlight.addAndGet(-group.size());
        wake();
        onStored.run();
        if (!stored.batchesToFinalize().isEmpty()) {
            onBatchesReady.accept(stored.batchesToFinalize());
        }
    }

    /**
     * The worker's threads that ended while the worker runs (none normally), for readiness: a service
     * whose dispatcher died would accept batches and never run them.
     */
    public List<String> stalledThreads() {
        List<String> dead = new ArrayList<>();
        if (claiming && dispatcher.getState() == Thread.State.TERMINATED) {
            dead.add(dispatcher.getName());
        }
        if (writing && writer.getState() == Thread.State.TERMINATED) {
            dead.add(writer.getName());
        }
        return dead;
    }

    /**
     * Stops claiming, lets in-flight requests finish for up to {@code grace}, stores what finished,
     * and gives back the leases of the rest so that another node (or the next start) runs them at
     * once instead of waiting for the leases to expire.
     */
    public void shutdown(Duration grace) {
        claiming = false;
        wake();
        join(dispatcher, Duration.ofSeconds(10));
        long deadline = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        writing = false;
        join(writer, Duration.ofSeconds(30));
        int released = store.releaseLeases(owner);
        if (released > 0) {
            log.info("released {} unfinished requests for another worker", released);
        }
    }

    private static void join(Thread t, Duration d) {
        try {
            t.join(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
