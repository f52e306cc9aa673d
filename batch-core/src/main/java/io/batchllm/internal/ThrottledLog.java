package io.batchllm.internal;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Logs a failure that repeats (a loop retrying against a full disk or a closed database) without
 * flooding the log: at most one entry (with its stack trace) per interval, saying how many were left
 * out since the last one. Thread safe; one instance per place that logs.
 */
public final class ThrottledLog {
    /** At most one line per this interval after the first. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

    private final Logger log;
    private final long intervalNanos;
    private final java.util.function.LongSupplier nanoTime;
    private boolean logged;
    private long lastNanos;
    private long suppressed;

    public ThrottledLog(Logger log) {
        this(log, DEFAULT_INTERVAL, System::nanoTime);
    }

    ThrottledLog(Logger log, Duration interval, java.util.function.LongSupplier nanoTime) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Logs {@code message: failure} at error level, unless it was logged less than an interval ago. */
    public void error(String message, Throwable failure) {
        long now = nanoTime.getAsLong();
        long left;
        synchronized (this) {
            if (logged && now - lastNanos < intervalNanos) {
                suppressed++;
                return;
            }
            logged = true;
            lastNanos = now;
            left = suppressed;
            suppressed = 0;
        }
        if (left == 0) {
            log.error("{}: {}", message, failure.toString(), failure);
        } else {
            log.error("{}: {} ({} more like it left out since the last entry)", message, failure.toString(), left,
                    failure);
        }
    }
}
