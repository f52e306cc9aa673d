package io.batchllm.cli;

import io.batchllm.Batch;
import io.batchllm.BatchStatus;
import io.batchllm.RequestCounts;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of one batch on stderr. On a terminal it is one line redrawn in place with {@code \r}; when
 * stderr goes to a file or a pipe, where {@code \r} would pile up as garbage, it is a plain line at most
 * every {@code plainInterval}. Not thread safe: one polling thread calls it.
 *
 * <p>Requests in flight and tokens generated come from the service's live counters ({@link Live}),
 * so a long batch shows progress from its first step, before any request has finished.
 */
final class Progress {
    /** How often a plain (non-terminal) progress line is printed. */
    static final Duration DEFAULT_PLAIN_INTERVAL = Duration.ofSeconds(5);
    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final boolean terminal;
    private final long plainIntervalNanos;
    private final LongSupplier nanoTime;
    private final Live live;
    private final long startNanos;
    private long lastPlainNanos;
    private boolean printedPlain;
    private int lastWidth;

    /**
     * The service's live counters.
     *
     * @param inFlight requests handed to the backend and not yet stored
     * @param generatedTokens tokens generated so far, unfinished requests included (a backend that
     *     does not count them adds none; the stored results' tokens are shown when they are more)
     */
    record Live(LongSupplier inFlight, LongSupplier generatedTokens) {
    }

    Progress(PrintWriter err, boolean terminal, Duration plainInterval, LongSupplier nanoTime, Live live) {
        this.err = err;
        this.terminal = terminal;
        this.plainIntervalNanos = plainInterval.toNanos();
        this.nanoTime = nanoTime;
        this.live = live;
        this.startNanos = nanoTime.getAsLong();
    }

    /** Shows the batch's latest state. */
    void update(Batch batch) {
        long now = nanoTime.getAsLong();
        String line = describe(batch, now);
        if (terminal) {
            // Pad with blanks so that a shorter line fully covers the previous one.
            String padded = line.length() < lastWidth ? line + " ".repeat(lastWidth - line.length()) : line;
            lastWidth = line.length();
            err.print("\r" + padded);
            err.flush();
        } else if (!printedPlain || now - lastPlainNanos >= plainIntervalNanos) {
            printedPlain = true;
            lastPlainNanos = now;
            err.println("progress: " + line);
            err.flush();
        }
    }

    /** Ends the progress display; on a terminal, moves past the redrawn line. */
    void finish(Batch batch) {
        if (terminal) {
            update(batch);
            err.println();
            err.flush();
        } else {
            err.println("progress: " + describe(batch, nanoTime.getAsLong()));
            err.flush();
        }
    }

    /** Seconds since this display started. */
    double elapsedSeconds() {
        return (nanoTime.getAsLong() - startNanos) / 1e9;
    }

    private String describe(Batch batch, long now) {
        if (batch.status() == BatchStatus.VALIDATING) {
            return "validating the input file...";
        }
        RequestCounts c = batch.requestCounts();
        long done = c.completed() + c.failed();
        double seconds = (now - startNanos) / 1e9;
        long storedTokens = batch.usage() != null ? batch.usage().outputTokens() : 0;
        long tokens = Math.max(storedTokens, live.generatedTokens().getAsLong());
        StringBuilder sb = new StringBuilder();
        if (terminal) {
            sb.append(bar(done, c.total())).append(' ');
        }
        sb.append(done).append('/').append(c.total()).append(" requests");
        if (c.failed() > 0) {
            sb.append(" (").append(c.failed()).append(" failed)");
        }
        if (!batch.status().isTerminal()) {
            sb.append(", ").append(live.inFlight().getAsLong()).append(" running");
        }
        sb.append(", ").append(tokens).append(" tokens, ").append(tokensPerSecond(tokens, seconds)).append(" tok/s");
        sb.append(", ETA ").append(eta(done, c.total(), seconds));
        return sb.toString();
    }

    private static String bar(long done, long total) {
        int filled = total <= 0 ? 0 : (int) (BAR_WIDTH * done / total);
        return "[" + "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled) + "]";
    }

    /** Output tokens per second, one decimal; {@code 0.0} before any time has passed. */
    static String tokensPerSecond(long tokens, double seconds) {
        return String.format(Locale.ROOT, "%.1f", seconds > 0 ? tokens / seconds : 0.0);
    }

    /** Time left if the remaining requests go as fast as the finished ones did; {@code --:--} before any finished. */
    static String eta(long done, long total, double seconds) {
        if (done <= 0 || total <= done) {
            return done > 0 ? "0:00" : "--:--";
        }
        return clock(seconds / done * (total - done));
    }

    /** {@code m:ss}, or {@code h:mm:ss} from one hour. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
