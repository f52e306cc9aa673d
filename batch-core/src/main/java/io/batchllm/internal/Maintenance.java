package io.batchllm.internal;

import io.batchllm.store.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Periodic chores: expire batches whose window passed, hand stuck or ready batches to the finalizer
 * (after a crash, or when a cancelled batch's last lease ran out), renew this node's leases, purge
 * expired files, and refresh the queue-depth gauge.
 */
final class Maintenance implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);

    private final JobStore store;
    private final Clock clock;
    private final Finalizer finalizer;
    private final ServiceMetrics metrics;
    private final Consumer<String> deleteFile;
    private final String owner;
    private final Duration lease;
    private final ThrottledLog tickFailures = new ThrottledLog(log);
    private final ThrottledLog renewFailures = new ThrottledLog(log);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("batchllm-maintenance").daemon().factory());

    Maintenance(JobStore store, Clock clock, Finalizer finalizer, ServiceMetrics metrics, Consumer<String> deleteFile,
                String owner, Duration lease) {
        this.store = store;
        this.clock = clock;
        this.finalizer = finalizer;
        this.metrics = metrics;
        this.deleteFile = deleteFile;
        this.owner = owner;
        this.lease = lease;
    }

    void start(Duration interval) {
        long every = Math.max(1, interval.toMillis());
        scheduler.scheduleWithFixedDelay(this::safeTick, 0, every, TimeUnit.MILLISECONDS);
        long renew = Math.max(1, lease.toMillis() / 3);
        scheduler.scheduleWithFixedDelay(this::safeRenew, renew, renew, TimeUnit.MILLISECONDS);
    }

    // Errors are caught too: a scheduled task that throws is never run again.
    private void safeTick() {
        try {
            tick();
        } catch (RuntimeException | Error e) {
            tickFailures.error("maintenance failed; retrying", e);
        }
    }

    private void safeRenew() {
        try {
            store.renewLeases(owner, lease);
        } catch (RuntimeException | Error e) {
            renewFailures.error("lease renewal failed; retrying", e);
        }
    }

    /** One round of chores. */
    void tick() {
        long now = clock.instant().getEpochSecond();
        for (String id : store.dueForExpiry(now)) {
            if (store.requestExpiry(id)) {
                log.info("batch {} passed its completion window; expiring it", id);
            }
        }
        finalizer.submit(store.batchesToFinalize());
        for (String id : store.expiredFiles(now)) {
            deleteFile.accept(id);
        }
        metrics.queueDepth(store.unfinishedRequests());
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
