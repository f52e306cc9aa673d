package io.batchllm.internal;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import io.batchllm.spi.ResultHandler;
import io.batchllm.store.JobStore;
import io.batchllm.store.OutboxEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Delivers outbox events to the result handlers, on its own thread so that handlers never sit on
 * the inference path. Each handler call is retried with backoff (Failsafe); a handler that still
 * fails is recorded as failed for that event and delivery moves on. Events are acknowledged (deleted)
 * only after every handler had its turn, so a crash redelivers them: at-least-once.
 *
 * <p>{@link #close()} delivers what is pending, for up to the drain bound, so that a service closed
 * right after a batch ended still tells its handlers; what it cannot deliver in time stays in the
 * outbox for the next start.
 */
public final class HandlerDispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HandlerDispatcher.class);
    private static final int POLL_SIZE = 256;

    private final JobStore store;
    private final List<ResultHandler> handlers;
    private final RetryPolicy<Object> retry;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final Duration idlePoll;
    private final Duration drainBound;
    private final ThrottledLog failures = new ThrottledLog(log);
    private final Object signal = new Object();
    private boolean woken;
    private volatile boolean running = true;
    private final Thread thread;

    /** @param drainBound how long {@link #close()} goes on delivering pending events */
    public HandlerDispatcher(JobStore store, List<ResultHandler> handlers, HandlerRetry retrySettings,
                             ServiceMetrics metrics, Clock clock, Duration idlePoll, Duration drainBound) {
        this.store = store;
        List<ResultHandler> sorted = new ArrayList<>(handlers);
        sorted.sort(Comparator.comparingInt(ResultHandler::order));
        this.handlers = List.copyOf(sorted);
        this.retry = RetryPolicy.builder()
                .handle(Exception.class)
                .withMaxRetries(retrySettings.maxRetries())
                .withBackoff(retrySettings.initialDelay(), retrySettings.maxDelay())
                .build();
        this.metrics = metrics;
        this.clock = clock;
        this.idlePoll = idlePoll;
        this.drainBound = drainBound;
        this.thread = Thread.ofPlatform().name("batchllm-handlers").daemon().unstarted(this::loop);
    }

    /**
     * Retry settings for handler calls.
     *
     * @param maxRetries retries after the first attempt
     * @param initialDelay first backoff
     * @param maxDelay backoff cap
     */
    public record HandlerRetry(int maxRetries, Duration initialDelay, Duration maxDelay) {
    }

    public void start() {
        thread.start();
    }

    /** Events were added. */
    public void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    private void loop() {
        while (running) {
            try {
                if (deliverOnce(() -> running) == 0) {
                    synchronized (signal) {
                        if (!woken && running) {
                            signal.wait(idlePoll.toMillis());
                        }
                        woken = false;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                failures.error("handler delivery failed; retrying", e);
                try {
                    Thread.sleep(idlePoll.toMillis());
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Delivers one poll's worth of events while {@code goOn} holds between them; returns how many. */
    int deliverOnce(BooleanSupplier goOn) {
        List<OutboxEvent> events = store.pollOutbox(POLL_SIZE);
        metrics.outboxDepth(events.size());
        if (events.isEmpty()) {
            return 0;
        }
        List<Long> delivered = new ArrayList<>(events.size());
        for (OutboxEvent e : events) {
            if (!goOn.getAsBoolean()) {
                break;
            }
            String batchId = e.request() != null ? e.request().batchId() : e.batch().batchId();
            MDC.put("batch_id", batchId);
            try {
                for (ResultHandler h : handlers) {
                    deliver(h, e, batchId);
                }
            } finally {
                MDC.remove("batch_id");
            }
            delivered.add(e.id());
        }
        store.ackOutbox(delivered);
        return delivered.size();
    }

    private void deliver(ResultHandler h, OutboxEvent e, String batchId) {
        try {
            Failsafe.with(retry).run(() -> {
                if (e.request() != null) {
                    h.onRequestFinished(e.request());
                } else {
                    h.onBatchFinished(e.batch());
                }
            });
        } catch (RuntimeException ex) {
            Throwable cause = ex instanceof FailsafeException && ex.getCause() != null ? ex.getCause() : ex;
            String customId = e.request() != null ? e.request().customId() : null;
            log.warn("result handler '{}' failed for {} after retries: {}", h.name(),
                    customId != null ? "custom_id " + customId : "the batch event", cause.toString());
            metrics.handlerFailed(h.name());
            store.recordHandlerFailure(e.id(), h.name(), batchId, customId, cause.toString(),
                    clock.instant().getEpochSecond());
        }
    }

    /**
     * Stops the delivery thread after the event in hand, then delivers what is pending on the caller's
     * thread until the outbox is empty or the drain bound has passed; the rest stays in the outbox for
     * the next start. Call after the components that add events have stopped.
     */
    @Override
    public void close() {
        running = false;
        wake();
        if (thread.getState() != Thread.State.NEW) {
            try {
                thread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long deadline = System.nanoTime() + drainBound.toNanos();
            BooleanSupplier inTime = () -> System.nanoTime() - deadline < 0;
            try {
                while (inTime.getAsBoolean() && deliverOnce(inTime) > 0) {
                    // next poll
                }
            } catch (RuntimeException e) {
                log.warn("could not deliver the pending handler events at close; they stay in the outbox for the "
                        + "next start: {}", e.toString());
            }
        }
    }
}
