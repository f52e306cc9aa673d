package io.batchllm.http.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose request headers trickle in (slowloris): one that keeps receiving bytes
 * for more than two periods of {@code headerTimeout} while no request is being served and no
 * request's headers complete. Headers that arrive within one period are never cut.
 *
 * <p>Jetty has no limit on how long the headers of a request may take: the idle timeout only fires
 * when nothing arrives at all, and its minimum data rate ({@code MinimumDataRateHandler}) applies to
 * bodies, once a handler reads them. So each connection is sampled every period: its own counters
 * ({@link Connection#getMessagesIn()} counts requests whose headers are complete,
 * {@link Connection#getBytesIn()} bytes read), and whether this handler is serving one of its
 * requests (bytes then are a body, governed by the body rate). A period in which the connection read
 * bytes, completed no request's headers and served none is a slow one; two in a row close it.
 * Thread safe.
 */
final class SlowHeaderGuard extends Handler.Wrapper implements Connection.Listener {
    private static final Logger log = LoggerFactory.getLogger(SlowHeaderGuard.class);

    private final long periodNanos;
    private final Scheduler scheduler;
    private final Map<Connection, Watch> watches = new ConcurrentHashMap<>();

    SlowHeaderGuard(Handler handler, Duration headerTimeout, Scheduler scheduler) {
        super(handler);
        this.periodNanos = headerTimeout.toNanos();
        this.scheduler = scheduler;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Watch w = watches.get(request.getConnectionMetaData().getConnection());
        if (w != null) {
            w.serving = true;
            Request.addCompletionListener(request, failure -> w.serving = false);
        }
        return super.handle(request, response, callback);
    }

    @Override
    public void onOpened(Connection connection) {
        Watch w = new Watch(connection);
        watches.put(connection, w);
        w.schedule();
    }

    @Override
    public void onClosed(Connection connection) {
        Watch w = watches.remove(connection);
        if (w != null) {
            w.cancel();
        }
    }

    /** One connection's samples; its ticks run one at a time on the scheduler. */
    private final class Watch implements Runnable {
        private final Connection connection;
        private volatile Scheduler.Task task;
        private volatile boolean serving;
        private long requests;
        private long bytes;
        private int slowPeriods;

        Watch(Connection connection) {
            this.connection = connection;
        }

        void schedule() {
            task = scheduler.schedule(this, periodNanos, TimeUnit.NANOSECONDS);
        }

        void cancel() {
            Scheduler.Task t = task;
            if (t != null) {
                t.cancel();
            }
        }

        @Override
        public void run() {
            if (!watches.containsKey(connection)) {
                return;
            }
            long in = connection.getMessagesIn();
            long read = connection.getBytesIn();
            boolean slow = in == requests && read > bytes && !serving;
            slowPeriods = slow ? slowPeriods + 1 : 0;
            requests = in;
            bytes = read;
            if (slowPeriods >= 2) {
                log.debug("closing {}: request headers still incomplete after {} ms of trickling", connection,
                        TimeUnit.NANOSECONDS.toMillis(2 * periodNanos));
                connection.getEndPoint().close(new TimeoutException("request headers arrive too slowly"));
                return;
            }
            schedule();
        }
    }
}
