package io.batchllm.cli;

import io.batchllm.BatchService;
import io.batchllm.engine.DemoModel;
import io.batchllm.http.BatchHttpServer;
import io.batchllm.http.RequestLimiter;
import io.batchllm.http.SecurityProvider;
import io.batchllm.http.auth.ApiKeyAuthenticator;
import io.batchllm.http.auth.Authenticator;
import io.batchllm.http.auth.JdbcApiKeyStore;
import io.batchllm.http.auth.JwtAuthenticator;
import io.batchllm.http.auth.JwtSettings;
import io.batchllm.http.auth.KeyedRequestLimiter;
import io.batchllm.store.JdbcJobStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import io.batchllm.ratelimit.RateLimiter;
import io.batchllm.ratelimit.TokenBucketRateLimiter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code batchllm serve}: the OpenAI-compatible REST server ({@link BatchHttpServer}) over a service on
 * this machine, until SIGTERM or Ctrl-C, which stop it gracefully.
 */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Serves the OpenAI Files and Batches API (/v1/files, /v1/batches, /v1/models) plus /health, /ready "
                        + "and /metrics. Point an OpenAI SDK at http://HOST:PORT/v1.",
                "Every option can also come from the environment (--db-url: BATCHLLM_DB_URL) or from a properties "
                        + "file given with --config (db-url=...); the command line wins, then the environment, then "
                        + "the file."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:stopped by SIGTERM or Ctrl-C after a graceful shutdown",
                "2:bad usage: unknown option, bad --model, an unreadable --config or --jwt-jwks-file, the port is "
                        + "taken, --auth keys without a database that can hold keys, an unknown --auth mode; or the "
                        + "service cannot start (a model that does not load, a --data-dir another process holds)",
                "3:internal error"},
        footerHeading = "%nExamples:%n",
        footer = {
                "  batchllm serve --port 8080 --auth none",
                "  BATCHLLM_DB_PASSWORD=secret batchllm serve --host 0.0.0.0 --port 8080 \\",
                "      --model llama=Llama-3.2-1B-Instruct-Q8_0.gguf --db-url jdbc:postgresql://db/batchllm --db-user app"})
final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080",
            description = "The TCP port (0: any free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--host", paramLabel = "H", defaultValue = BatchHttpServer.Builder.DEFAULT_HOST,
            description = "The address to listen on; 0.0.0.0 for every interface. Default: ${DEFAULT-VALUE} "
                    + "(this machine only).")
    String host;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "batchllm-data",
            description = "Where the database (unless --db-url) and the stored files live. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    @Option(names = "--model", paramLabel = "NAME=PATH.gguf", converter = ModelArgument.Converter.class, split = ",",
            description = "Serves the GGUF file PATH as model NAME. Instead of a path: ollama:MODEL[:TAG], "
                    + "hf:ORG/REPO/FILE.gguf or lmstudio:PUBLISHER/REPO, found where those tools keep them (NAME= may "
                    + "then be left out); nothing is downloaded. Repeatable. Default: the built-in demo model, "
                    + "named demo (random weights, for trying the server).")
    List<ModelArgument> models = new ArrayList<>();

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "The inference backend. Default: ${DEFAULT-VALUE} (the best available).")
    RunBatchCommand.BackendChoice backend;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for inference. Default: all processors.")
    Integer threads;

    @Option(names = "--db-url", paramLabel = "JDBC",
            description = "A job store database (jdbc:postgresql://… or jdbc:h2:…) instead of H2 in the data directory.")
    String dbUrl;

    @Option(names = "--db-user", paramLabel = "U", description = "The database user.")
    String dbUser;

    @Option(names = "--db-password", paramLabel = "W",
            description = "The database password (prefer BATCHLLM_DB_PASSWORD: the command line is visible to "
                    + "other users of the machine).")
    String dbPassword;

    @Option(names = "--auth", paramLabel = "keys|jwt|none", defaultValue = "keys",
            description = "keys: every /v1 request needs an API key made with 'batchllm keys create'. jwt: every /v1 "
                    + "request needs a JWT from your identity provider (see the --jwt-* options). none: no "
                    + "authentication, every caller is an admin (local use only). Default: ${DEFAULT-VALUE}.")
    String auth;

    @Option(names = "--jwt-issuer", paramLabel = "ISS", description = "With --auth jwt: the required 'iss' claim.")
    String jwtIssuer;

    @Option(names = "--jwt-audience", paramLabel = "AUD", description = "With --auth jwt: the required 'aud' value.")
    String jwtAudience;

    @Option(names = "--jwt-jwks-file", paramLabel = "FILE",
            description = "With --auth jwt: a JWKS file with the identity provider's public keys (RS/PS/ES tokens).")
    Path jwtJwksFile;

    @Option(names = "--jwt-jwks-url", paramLabel = "URL",
            description = "With --auth jwt: the identity provider's JWKS URL (RS/PS/ES tokens).")
    URI jwtJwksUrl;

    @Option(names = "--jwt-secret", paramLabel = "SECRET",
            description = "With --auth jwt: a shared HMAC secret of at least 32 bytes (HS tokens); prefer "
                    + "BATCHLLM_JWT_SECRET, the command line is visible to other users.")
    String jwtSecret;

    @Option(names = "--jwt-tenant-claim", paramLabel = "CLAIM", defaultValue = JwtSettings.DEFAULT_TENANT_CLAIM,
            description = "With --auth jwt: the claim holding the tenant. Default: ${DEFAULT-VALUE}.")
    String jwtTenantClaim;

    @Option(names = "--jwt-role-claim", paramLabel = "CLAIM", defaultValue = JwtSettings.DEFAULT_ROLE_CLAIM,
            description = "With --auth jwt: the claim holding the role (admin, member or reader). "
                    + "Default: ${DEFAULT-VALUE}.")
    String jwtRoleClaim;

    @Option(names = "--requests-per-minute", paramLabel = "N", defaultValue = "" + KeyedRequestLimiter.DEFAULT_REQUESTS_PER_MINUTE,
            description = "With --auth keys: requests per minute per key (0: unlimited). Default: ${DEFAULT-VALUE}.")
    long requestsPerMinute;

    @Option(names = "--tokens-per-minute", paramLabel = "N", defaultValue = "" + KeyedRequestLimiter.DEFAULT_TOKENS_PER_MINUTE,
            description = "With --auth keys: enqueued tokens per minute per key (0: unlimited). Default: ${DEFAULT-VALUE}.")
    long tokensPerMinute;

    @Option(names = ConfigDefaults.CONFIG_OPTION, paramLabel = "FILE",
            description = "A properties file of option defaults (port=8080, db-url=…). Also BATCHLLM_CONFIG.")
    Path config;

    @Spec
    CommandSpec spec;

    /** Starts the service; tests substitute one on the test backend. */
    @FunctionalInterface
    interface Starter {
        BatchService start(ServiceConfig config, String dbUrl, String dbUser, String dbPassword, MeterRegistry registry);
    }

    static final Starter DEFAULT_STARTER = (config, url, user, password, registry) -> {
        BatchService.Builder b = config.toBuilder().meterRegistry(registry);
        if (url != null) {
            b.database(url, user, password);
        }
        return b.build();
    };

    /**
     * How long the shutdown hook waits for the graceful stop: the HTTP server's stop timeout, then
     * the service's (in-flight requests), with a margin for storing results and closing the store.
     */
    private static final Duration HOOK_WAIT = BatchHttpServer.Builder.DEFAULT_STOP_TIMEOUT
            .plus(BatchService.Builder.DEFAULT_SHUTDOWN_TIMEOUT).plusSeconds(15);

    private final Starter starter;
    private final Consumer<BatchHttpServer> onStarted;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Set once the server and the service closed without an error; the signal's exit code then is 0. */
    private volatile boolean closedCleanly;

    ServeCommand() {
        this(DEFAULT_STARTER, server -> { });
    }

    ServeCommand(Starter starter, Consumer<BatchHttpServer> onStarted) {
        this.starter = starter;
        this.onStarted = onStarted;
    }

    /** Makes a running {@link #call()} shut down and return, as SIGTERM does. */
    void stop() {
        stop.countDown();
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Path> modelFiles = new LinkedHashMap<>();
        for (ModelArgument m : models) {
            if (modelFiles.put(m.name(), m.path()) != null) {
                throw new UsageException("--model " + m.name() + " is given twice; each model name needs one file");
            }
        }
        if (modelFiles.isEmpty()) {
            modelFiles.put(DemoModel.NAME, DemoModel.ensure(dataDir.resolve("models")));
            log.info(DemoModel.NOTICE);
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServiceConfig sc = new ServiceConfig(dataDir, modelFiles, backend == RunBatchCommand.BackendChoice.auto ? null
                : backend.name(), threads);
        BatchService service;
        try {
            service = starter.start(sc, dbUrl, dbUser, dbPassword, registry);
        } catch (RuntimeException e) {
            // As run-batch: a backend that cannot serve the models, a model that does not load, a data
            // directory another process holds are the user's to fix, and the message says how.
            throw new UsageException("cannot start the service: " + e.getMessage(), e);
        }
        BatchHttpServer server = null;
        Thread hook = new Thread(this::onSignal, "batchllm-serve-shutdown");
        try {
            Security security = security(service);
            if (auth.equals("none")) {
                String warning = "WARNING: --auth none: no authentication. Every caller is an admin and sees every "
                        + "tenant's files and batches. Use it only on a trusted machine; serve with --auth keys "
                        + "otherwise.";
                err.println(warning);
                err.flush();
                log.warn(warning);
            }
            try {
                server = BatchHttpServer.builder(service).host(host).port(port)
                        .authenticator(security.authenticator()).requestLimiter(security.limiter())
                        .prometheus(registry).spoolDirectory(dataDir.resolve("tmp")).start();
            } catch (IllegalStateException e) {
                throw new UsageException(e.getMessage());
            }
            Runtime.getRuntime().addShutdownHook(hook);
            log.info("serving the OpenAI API on http://{}:{}/v1 (auth: {}, models: {})", host, server.port(), auth,
                    service.models());
            onStarted.accept(server);
            stop.await();
            log.info("shutting down: finishing running requests");
            return ExitCodes.COMPLETED;
        } finally {
            try {
                if (server != null) {
                    server.close();
                }
                service.close();
                closedCleanly = true;
                log.info("stopped");
            } finally {
                stopped.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Called from the shutdown itself: the hook is already running.
            }
        }
    }

    /**
     * SIGTERM or Ctrl-C: the JVM exits when its shutdown hooks return, so this one holds the exit until
     * the main thread has stopped the server and the service (running requests finished and stored,
     * the rest given back). A JVM ended by a signal exits 128 + the signal's number; a graceful stop is
     * not a failure, so the hook ends the JVM itself with 0, once everything is closed.
     */
    private void onSignal() {
        stop();
        try {
            if (!stopped.await(HOOK_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                System.err.println("batchllm: the service did not stop within " + HOOK_WAIT.toSeconds() + " s; exiting");
                System.err.flush();
                Runtime.getRuntime().halt(ExitCodes.INTERNAL_ERROR);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(closedCleanly ? ExitCodes.COMPLETED : ExitCodes.INTERNAL_ERROR);
    }

    private static RateLimiter perMinute(long n) {
        if (n < 0) {
            throw new UsageException("rate limits must be >= 0 (0: unlimited), got " + n);
        }
        return n == 0 ? RateLimiter.unlimited() : new TokenBucketRateLimiter(n, Duration.ofMinutes(1), Clock.systemUTC());
    }

    private record Security(Authenticator authenticator, RequestLimiter limiter) {
    }

    private Security security(BatchService service) {
        if (auth.equals("none")) {
            return new Security(Authenticator.none(), RequestLimiter.unlimited());
        }
        for (SecurityProvider p : ServiceLoader.load(SecurityProvider.class)) {
            if (p.name().equals(auth)) {
                SecurityProvider.Context ctx = new SecurityProvider.Context(dataDir, dbUrl, dbUser, dbPassword,
                        name -> spec.findOption("--" + name) != null
                                ? String.valueOf((Object) spec.findOption("--" + name).getValue()) : null);
                return new Security(p.authenticator(ctx), p.requestLimiter(ctx));
            }
        }
        RequestLimiter limiter = requestsPerMinute == 0 && tokensPerMinute == 0 ? RequestLimiter.unlimited()
                : new KeyedRequestLimiter(perMinute(requestsPerMinute), perMinute(tokensPerMinute));
        if (auth.equals("jwt")) {
            JwtSettings settings = jwtSettings();
            try {
                return new Security(new JwtAuthenticator(settings), limiter);
            } catch (IllegalArgumentException e) {
                // An unreadable --jwt-jwks-file: the message names the file.
                throw new UsageException("--auth jwt: " + e.getMessage());
            }
        }
        if (!auth.equals("keys")) {
            throw new UsageException("unknown --auth mode '" + auth + "'; use keys, jwt or none");
        }
        // API keys live in the job store's database, where 'batchllm keys create' puts them.
        if (!(service.jobStore() instanceof JdbcJobStore store)) {
            throw new UsageException("--auth keys needs the keys table of a JDBC job store; this service has a "
                    + service.jobStore().getClass().getSimpleName() + " (use --auth none for local use)");
        }
        return new Security(new ApiKeyAuthenticator(JdbcApiKeyStore.on(store.dataSource())), limiter);
    }

    /** The JWT settings from the --jwt-* options: issuer, audience and exactly one key source. */
    private JwtSettings jwtSettings() {
        if (jwtIssuer == null || jwtAudience == null) {
            throw new UsageException("--auth jwt needs --jwt-issuer and --jwt-audience");
        }
        int sources = (jwtJwksFile != null ? 1 : 0) + (jwtJwksUrl != null ? 1 : 0) + (jwtSecret != null ? 1 : 0);
        if (sources != 1) {
            throw new UsageException("--auth jwt needs exactly one of --jwt-jwks-file, --jwt-jwks-url and --jwt-secret");
        }
        try {
            JwtSettings settings = jwtJwksFile != null ? JwtSettings.jwksFile(jwtIssuer, jwtAudience, jwtJwksFile)
                    : jwtJwksUrl != null ? JwtSettings.jwksUrl(jwtIssuer, jwtAudience, jwtJwksUrl)
                    : JwtSettings.hmacSecret(jwtIssuer, jwtAudience, jwtSecret);
            return settings.withClaims(jwtTenantClaim, jwtRoleClaim);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--auth jwt: " + e.getMessage());
        }
    }
}
