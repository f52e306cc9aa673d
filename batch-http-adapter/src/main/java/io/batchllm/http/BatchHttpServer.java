package io.batchllm.http;

import io.batchllm.BatchService;
import io.batchllm.http.auth.Authenticator;
import io.batchllm.http.server.ServerAssembly;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.eclipse.jetty.server.Server;

/**
 * The OpenAI-compatible REST server over a {@link BatchService}: {@code /v1/files},
 * {@code /v1/batches}, {@code /v1/models}, plus {@code /health}, {@code /ready} and {@code /metrics}.
 * Jetty 12 core handlers on virtual threads; see {@code docs/http.md} for every route and limit.
 *
 * <pre>{@code
 * try (BatchHttpServer server = BatchHttpServer.builder(service).port(8080).start()) {
 *     server.join();
 * }
 * }</pre>
 *
 * <p>Thread safe. {@link #close()} stops accepting connections, lets running requests finish for up
 * to {@link Builder#stopTimeout}, and leaves the service open (its owner closes it).
 */
public final class BatchHttpServer implements AutoCloseable {
    private final Server jetty;

    private BatchHttpServer(Server jetty) {
        this.jetty = jetty;
    }

    /** A builder for a server over {@code service}; every setting has a default. */
    public static Builder builder(BatchService service) {
        return new Builder(service);
    }

    /** The port it listens on (the chosen one when built with port 0). */
    public int port() {
        return ServerAssembly.port(jetty);
    }

    /** Blocks until the server has stopped. */
    public void join() throws InterruptedException {
        jetty.join();
    }

    /** Stops gracefully; idempotent. */
    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server failed: " + e, e);
        }
    }

    /**
     * Configures a {@link BatchHttpServer}. {@link #start()} takes a snapshot of the settings. Not
     * thread safe.
     */
    public static final class Builder {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 8080;
        /** Largest JSON request body (batch creation); a larger one is answered 413. */
        public static final long DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
        /** Largest upload request: the core's 512 MB file limit plus room for the form around it. */
        public static final long DEFAULT_MAX_UPLOAD_BYTES = BatchService.Builder.DEFAULT_MAX_FILE_BYTES + 64 * 1024;
        /** Request line plus headers; more is answered 431. */
        public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
        /** Deepest JSON nesting accepted in a request body. */
        public static final int DEFAULT_MAX_JSON_DEPTH = 32;
        /** A connection that sends or accepts nothing for this long is closed. */
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
        /** A request body arriving slower than this (bytes per second, on average) is cut off with a 408. */
        public static final long DEFAULT_MIN_REQUEST_DATA_RATE = 1024;
        /**
         * Request headers still incomplete after bytes trickled for two periods of this close the
         * connection; headers that arrive within one period are never cut.
         */
        public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
        /** Open connections; past this, new ones wait in the listen backlog. */
        public static final int DEFAULT_MAX_CONNECTIONS = 1024;
        public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);

        private final BatchService service;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private Authenticator authenticator;
        private RequestLimiter limiter = RequestLimiter.unlimited();
        private PrometheusMeterRegistry prometheus;
        private Path spoolDirectory;
        private long maxJsonBytes = DEFAULT_MAX_JSON_BYTES;
        private long maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES;
        private int maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
        private int maxJsonDepth = DEFAULT_MAX_JSON_DEPTH;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private long minRequestDataRate = DEFAULT_MIN_REQUEST_DATA_RATE;
        private Duration headerTimeout = DEFAULT_HEADER_TIMEOUT;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private Duration stopTimeout = DEFAULT_STOP_TIMEOUT;

        private Builder(BatchService service) {
            this.service = Objects.requireNonNull(service, "service");
        }

        /** The address to bind. Default {@value #DEFAULT_HOST} (local only); {@code 0.0.0.0} for every interface. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port; 0 picks a free one (see {@link BatchHttpServer#port()}). Default {@value #DEFAULT_PORT}. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Who may call {@code /v1}. Required: pass {@link Authenticator#none()} explicitly for local use
         * without keys.
         */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
            return this;
        }

        /** Rate limits; default {@link RequestLimiter#allowAll()}. */
        public Builder requestLimiter(RequestLimiter limiter) {
            this.limiter = Objects.requireNonNull(limiter, "limiter");
            return this;
        }

        /**
         * The registry {@code /metrics} scrapes. Default: the service's own registry when it is a
         * {@link PrometheusMeterRegistry}; otherwise {@code /metrics} answers 503 saying so.
         */
        public Builder prometheus(PrometheusMeterRegistry registry) {
            this.prometheus = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Where the form parser spools an upload's {@code file} part (and any over-long field) until
         * the whole form has been read and checked. Default: the system temporary directory. Spooled
         * parts are deleted when the request ends.
         */
        public Builder spoolDirectory(Path dir) {
            this.spoolDirectory = Objects.requireNonNull(dir, "spoolDirectory");
            return this;
        }

        /** Largest JSON body. Default 1 MiB. */
        public Builder maxJsonBytes(long n) {
            this.maxJsonBytes = atLeast("maxJsonBytes", n, 1024);
            return this;
        }

        /** Largest upload request body. Default 512 MiB + 64 KiB. */
        public Builder maxUploadBytes(long n) {
            this.maxUploadBytes = atLeast("maxUploadBytes", n, 1024);
            return this;
        }

        /** Largest request line plus headers. Default 16 KiB. */
        public Builder maxHeaderBytes(int n) {
            this.maxHeaderBytes = (int) atLeast("maxHeaderBytes", n, 1024);
            return this;
        }

        /** Deepest JSON nesting. Default 32. */
        public Builder maxJsonDepth(int n) {
            this.maxJsonDepth = (int) atLeast("maxJsonDepth", n, 2);
            return this;
        }

        /** Idle connection timeout. Default 30 s. */
        public Builder idleTimeout(Duration d) {
            this.idleTimeout = positive("idleTimeout", d);
            return this;
        }

        /**
         * Slowest accepted request body, in bytes per second on average since the handler began
         * reading it; a slower one is answered 408. 0 turns the check off. Default 1024.
         */
        public Builder minRequestDataRate(long bytesPerSecond) {
            this.minRequestDataRate = atLeast("minRequestDataRate", bytesPerSecond, 0);
            return this;
        }

        /**
         * How long request headers may trickle in: a connection that keeps receiving bytes for two
         * periods of this without completing a request's headers is closed. Default 10 s.
         */
        public Builder headerTimeout(Duration d) {
            this.headerTimeout = positive("headerTimeout", d);
            return this;
        }

        /** Most open connections; more wait in the listen backlog until one closes. Default 1024. */
        public Builder maxConnections(int n) {
            this.maxConnections = (int) atLeast("maxConnections", n, 1);
            return this;
        }

        /** How long {@link BatchHttpServer#close()} lets running requests finish. Default 30 s. */
        public Builder stopTimeout(Duration d) {
            Objects.requireNonNull(d, "stopTimeout");
            if (d.isNegative()) {
                throw new IllegalArgumentException("stopTimeout must be >= 0, was " + d);
            }
            this.stopTimeout = d;
            return this;
        }

        /**
         * Binds and starts the server.
         *
         * @throws IllegalStateException no authenticator was set, or the port cannot be bound
         */
        public BatchHttpServer start() {
            if (authenticator == null) {
                throw new IllegalStateException("no authenticator: call authenticator(...), or authenticator("
                        + "Authenticator.none()) to serve without keys (local use only)");
            }
            ServerAssembly.Settings s = new ServerAssembly.Settings(service, host, port, authenticator, limiter,
                    prometheus, spoolDirectory != null ? spoolDirectory : Path.of(System.getProperty("java.io.tmpdir")),
                    maxJsonBytes, maxUploadBytes, maxHeaderBytes, maxJsonDepth, idleTimeout, minRequestDataRate,
                    headerTimeout, maxConnections, stopTimeout);
            return new BatchHttpServer(ServerAssembly.start(s));
        }

        private static Duration positive(String name, Duration d) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, was " + d);
            }
            return d;
        }

        private static long atLeast(String name, long v, long min) {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", was " + v);
            }
            return v;
        }
    }
}
