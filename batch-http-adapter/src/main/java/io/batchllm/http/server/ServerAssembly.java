package io.batchllm.http.server;

import io.batchllm.BatchService;
import io.batchllm.http.RequestLimiter;
import io.batchllm.http.auth.Authenticator;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * Internal: wires Jetty for {@link io.batchllm.http.BatchHttpServer} (public only because that class
 * lives in another package; not an API).
 */
public final class ServerAssembly {

    /** The server's settings, validated by the builder. */
    public record Settings(BatchService service, String host, int port, Authenticator authenticator,
                           RequestLimiter limiter, PrometheusMeterRegistry prometheus, Path spoolDirectory,
                           long maxJsonBytes, long maxUploadBytes, int maxHeaderBytes, int maxJsonDepth,
                           Duration idleTimeout, long minRequestDataRate, Duration headerTimeout, int maxConnections,
                           Duration stopTimeout) {
    }

    /** The idle timeout of every open connection while the connection cap is reached. */
    static final Duration CAPPED_IDLE_TIMEOUT = Duration.ofSeconds(5);

    private ServerAssembly() {
    }

    /** A started server. */
    public static Server start(Settings s) {
        // Every request runs on its own virtual thread, so handlers read bodies and write responses
        // with plain blocking streams (a 200 MB upload costs one parked virtual thread, not a pool slot).
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("batchllm-http");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setRequestHeaderSize(s.maxHeaderBytes());
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setIdleTimeout(s.idleTimeout().toMillis());
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(s.host());
        connector.setPort(s.port());
        connector.setIdleTimeout(s.idleTimeout().toMillis());
        server.addConnector(connector);
        // Slow-client protection, in three parts. A connection cap: past it Jetty stops accepting (new
        // connections wait in the backlog) and gives the open ones a short idle timeout.
        NetworkConnectionLimit cap = new NetworkConnectionLimit(s.maxConnections(), connector);
        cap.setEndPointIdleTimeout(CAPPED_IDLE_TIMEOUT.toMillis());
        server.addBean(cap);
        // Headers that trickle in are cut (Jetty has no limit of its own on how long headers take).
        SlowHeaderGuard headers = new SlowHeaderGuard(
                // A body read below the minimum rate fails with a TimeoutException: a 408 (BodyFailures).
                new MinimumDataRateHandler(new ApiHandler(s), s.minRequestDataRate(), 0),
                s.headerTimeout(), connector.getScheduler());
        // Unmanaged: it is a Connection.Listener of the connector, while its lifecycle is the handler tree's.
        connector.addBean(headers, false);
        // GracefulHandler lets requests in progress finish when the server stops.
        server.setHandler(new GracefulHandler(headers));
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(s.stopTimeout().toMillis());
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("cannot start the HTTP server on " + s.host() + ":" + s.port() + ": "
                    + e.getMessage(), e);
        }
        return server;
    }

    /** The bound port of a started server. */
    public static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }
}
