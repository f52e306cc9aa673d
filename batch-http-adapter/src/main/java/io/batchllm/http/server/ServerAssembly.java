package io.batchllm.http.server;

import io.batchllm.BatchService;
import io.batchllm.http.RequestLimiter;
import io.batchllm.http.auth.Authenticator;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
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
                           Duration idleTimeout, long minRequestDataRate, Duration stopTimeout) {
    }

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
        // Slow-client protection: a body trickling in below this rate is cut off (slowloris uploads).
        http.setMinRequestDataRate(s.minRequestDataRate());
        http.setIdleTimeout(s.idleTimeout().toMillis());
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(s.host());
        connector.setPort(s.port());
        connector.setIdleTimeout(s.idleTimeout().toMillis());
        server.addConnector(connector);
        // GracefulHandler lets requests in progress finish when the server stops.
        server.setHandler(new GracefulHandler(new ApiHandler(s)));
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
