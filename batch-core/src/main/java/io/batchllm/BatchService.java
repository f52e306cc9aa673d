package io.batchllm;

import io.batchllm.internal.HandlerDispatcher;
import io.batchllm.internal.Ids;
import io.batchllm.internal.ServiceRuntime;
import io.batchllm.internal.Settings;
import io.batchllm.internal.ValidationLimits;
import io.batchllm.modelfiles.ModelLocator;
import io.batchllm.ratelimit.RateLimiter;
import io.batchllm.ratelimit.TokenBucketRateLimiter;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import io.batchllm.spi.ResultHandler;
import io.batchllm.store.JdbcJobStore;
import io.batchllm.store.JobStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Supplier;

/**
 * OpenAI-compatible batch inference, in-process: upload a JSONL file of requests, create a batch,
 * await it, read the output and error files.
 *
 * <pre>{@code
 * try (BatchService service = BatchService.builder()
 *         .dataDirectory(Path.of("batchllm-data"))
 *         .model("stories", Path.of("stories260K.gguf"))
 *         .build()) {
 *     FileObject input = service.files().upload(Path.of("requests.jsonl"), FilePurpose.BATCH);
 *     Batch batch = service.batches().create(input.id(), Endpoint.CHAT_COMPLETIONS);
 *     Batch done = service.batches().await(batch.id(), Duration.ofHours(1));
 *     try (InputStream out = service.files().content(done.outputFileId())) {
 *         out.transferTo(System.out);
 *     }
 * }
 * }</pre>
 *
 * <p>State is durable: files, batches and every finished result are in the job store (H2 under the
 * data directory by default) before anyone can observe them. A service opened on the same data
 * directory after a crash finishes the batches the previous one left, without running a finished
 * request again.
 *
 * <p>Thread safe. {@link #close()} stops taking work, lets in-flight requests finish for up to
 * {@link Builder#shutdownTimeout}, gives the rest back for the next start, and delivers pending
 * result-handler events (for up to the same timeout; what remains is delivered after the next start).
 */
public final class BatchService implements AutoCloseable {

    /** The caller key used for rate limits when a request names none. */
    public static final String DEFAULT_CALLER = "default";

    private final ServiceRuntime runtime;

    private BatchService(Settings settings) {
        this.runtime = new ServiceRuntime(settings);
    }

    /** A builder with every default set. */
    public static Builder builder() {
        return new Builder();
    }

    /** The Files API. */
    public FileOperations files() {
        return runtime.files();
    }

    /** The Batches API. */
    public BatchOperations batches() {
        return runtime.batches();
    }

    /**
     * The Files and Batches APIs as one tenant sees them: uploads and batches it creates are owned by
     * {@code tenant}, lists show only its objects, and another tenant's file or batch is a
     * {@link NotFoundException} (never a "forbidden" that would reveal it exists). Result files belong
     * to the tenant of their batch. {@link #files()} and {@link #batches()} stay unscoped (every
     * tenant's objects), for administrators. Cheap to call per request.
     *
     * @throws IllegalArgumentException a blank tenant
     */
    public TenantScope forTenant(String tenant) {
        return runtime.forTenant(tenant);
    }

    /** The models this service serves (the {@code model} a request line may name). */
    public Set<String> models() {
        return runtime.models();
    }

    /** The meter registry the service reports to. */
    public MeterRegistry meterRegistry() {
        return runtime.settings().meterRegistry();
    }

    /**
     * What keeps the service from doing its work right now, one sentence each (a worker thread that
     * stopped, a job store that does not answer, a full disk); empty when it is ready. The HTTP
     * adapter's {@code /ready} answers 503 with these. Cheap enough to call per readiness probe: one
     * small query.
     */
    public List<String> problems() {
        return runtime.problems();
    }

    /** The job store, for operators and the HTTP adapter. */
    public JobStore jobStore() {
        return runtime.store();
    }

    /** Stops gracefully; see the class comment. Idempotent. */
    @Override
    public void close() {
        runtime.close();
    }

    /**
     * Configures a {@link BatchService}. Every setting has a default (named constants below); an
     * impossible value is refused at once with a message naming the setting and the allowed range.
     * {@link #build()} takes a snapshot: changing the builder afterwards does not affect the service.
     * Not thread safe.
     */
    public static final class Builder {
        public static final Path DEFAULT_DATA_DIRECTORY = Path.of("batchllm-data");
        public static final Duration DEFAULT_LEASE = Duration.ofSeconds(60);
        public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);
        public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
        /** OpenAI's limit for files in general (F3). */
        public static final long DEFAULT_MAX_FILE_BYTES = 512L * 1024 * 1024;
        /** OpenAI's limit for batch input files (F3, I4). */
        public static final long DEFAULT_MAX_BATCH_FILE_BYTES = 200L * 1024 * 1024;
        /** OpenAI's limit on lines per batch (I4). */
        public static final int DEFAULT_MAX_REQUESTS_PER_BATCH = 50_000;
        public static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
        public static final long DEFAULT_UPLOADS_PER_MINUTE = 600;
        public static final long DEFAULT_BATCHES_PER_MINUTE = 600;
        public static final int DEFAULT_HANDLER_RETRIES = 3;

        private Path dataDirectory = DEFAULT_DATA_DIRECTORY;
        private Supplier<JobStore> jobStore;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry meterRegistry;
        private final List<ResultHandler> handlers = new ArrayList<>();
        private final List<InferenceBackend> backends = new ArrayList<>();
        private final List<InferenceBackendProvider> providers = new ArrayList<>();
        private final Map<String, Path> models = new LinkedHashMap<>();
        private ModelLocator modelLocator = ModelLocator.fromEnvironment();
        private final Map<String, String> backendOptions = new LinkedHashMap<>();
        private boolean discover = true;
        private String backendName;
        private int threads = Runtime.getRuntime().availableProcessors();
        private int maxInFlight;
        private Duration lease = DEFAULT_LEASE;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private long maxFileBytes = DEFAULT_MAX_FILE_BYTES;
        private long maxBatchFileBytes = DEFAULT_MAX_BATCH_FILE_BYTES;
        private int maxRequestsPerBatch = DEFAULT_MAX_REQUESTS_PER_BATCH;
        private int maxLineBytes = DEFAULT_MAX_LINE_BYTES;
        private RateLimiter uploadRateLimiter;
        private RateLimiter batchRateLimiter;
        private int handlerRetries = DEFAULT_HANDLER_RETRIES;
        private Duration handlerBackoff = Duration.ofMillis(100);
        private String nodeId;

        private Builder() {
        }

        /** Where the database and stored files live. Default {@code ./batchllm-data}. */
        public Builder dataDirectory(Path dir) {
            this.dataDirectory = Objects.requireNonNull(dir, "dataDirectory");
            return this;
        }

        /** A job store to use instead of H2 under the data directory. The service closes it. */
        public Builder jobStore(JobStore store) {
            Objects.requireNonNull(store, "jobStore");
            this.jobStore = () -> store;
            return this;
        }

        /** Use a database by JDBC URL ({@code jdbc:h2:…} or {@code jdbc:postgresql:…}) instead of the embedded H2. */
        public Builder database(String jdbcUrl, String user, String password) {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            this.jobStore = () -> JdbcJobStore.open(jdbcUrl, user, password, JdbcJobStore.DEFAULT_POOL_SIZE);
            return this;
        }

        /** The time source for timestamps and expiry. Default the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where metrics go. Default a private {@link SimpleMeterRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        /** Adds a result handler. Registering any turns off {@code ServiceLoader} discovery of handlers. */
        public Builder resultHandler(ResultHandler handler) {
            handlers.add(Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Adds a backend instance; it serves the models it names. */
        public Builder backend(InferenceBackend backend) {
            backends.add(Objects.requireNonNull(backend, "backend"));
            return this;
        }

        /** Adds a backend provider. Registering any turns off {@code ServiceLoader} discovery of providers. */
        public Builder backendProvider(InferenceBackendProvider provider) {
            providers.add(Objects.requireNonNull(provider, "provider"));
            return this;
        }

        /** Serves a GGUF model file under {@code name}, on the best available backend provider. */
        public Builder model(String name, Path ggufFile) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("model name must not be blank");
            }
            models.put(name, Objects.requireNonNull(ggufFile, "ggufFile"));
            return this;
        }

        /**
         * Serves under {@code name} a GGUF file given by path or by where a tool keeps it:
         * {@code ollama:qwen3:0.6b}, {@code hf:ORG/REPO/FILE.gguf}, {@code lmstudio:PUBLISHER/REPO}
         * (see {@link ModelLocator}), resolved now with {@link #modelLocator}'s locator. Nothing is
         * downloaded.
         *
         * @throws io.batchllm.modelfiles.ModelNotFoundException if a reference names no file here,
         *     saying where it looked
         */
        public Builder model(String name, String fileOrReference) {
            Objects.requireNonNull(fileOrReference, "fileOrReference");
            return model(name, ModelLocator.isReference(fileOrReference) ? modelLocator.resolve(fileOrReference)
                    : Path.of(fileOrReference));
        }

        /**
         * Where {@link #model(String, String)} looks for {@code ollama:}, {@code hf:} and
         * {@code lmstudio:} models. Default {@link ModelLocator#fromEnvironment()}: this user's home
         * and the tools' environment variables.
         */
        public Builder modelLocator(ModelLocator locator) {
            this.modelLocator = Objects.requireNonNull(locator, "locator");
            return this;
        }

        /** Forces a backend provider by name ({@code cpu}, {@code cuda}); null or {@code auto} for the best available. */
        public Builder backendName(String name) {
            this.backendName = name == null || name.equals("auto") ? null : name;
            return this;
        }

        /** A free-form option passed to created backends. */
        public Builder backendOption(String key, String value) {
            backendOptions.put(key, value);
            return this;
        }

        /** Whether to find handlers and providers with {@code ServiceLoader} when none are registered. Default true. */
        public Builder discoverPlugins(boolean discover) {
            this.discover = discover;
            return this;
        }

        /** CPU threads for backends. Default: available processors. */
        public Builder threads(int n) {
            this.threads = atLeast("threads", n, 1);
            return this;
        }

        /**
         * Requests outstanding at once across backends; also the most that run again after a crash.
         * Default 0: the sum of the backends' {@link InferenceBackend#maxInFlight()}.
         */
        public Builder maxInFlight(int n) {
            this.maxInFlight = atLeast("maxInFlight", n, 0);
            return this;
        }

        /** How long a claimed request stays leased without renewal. Default 60 s. */
        public Builder leaseDuration(Duration d) {
            this.lease = positive("leaseDuration", d);
            return this;
        }

        /** How often idle loops look for work, expiry and stuck batches. Default 500 ms. */
        public Builder pollInterval(Duration d) {
            this.pollInterval = positive("pollInterval", d);
            return this;
        }

        /**
         * How long {@link BatchService#close()} lets in-flight requests finish, and then how long it goes
         * on delivering pending result-handler events (the rest are delivered after the next start).
         * Default 30 s.
         */
        public Builder shutdownTimeout(Duration d) {
            Objects.requireNonNull(d, "shutdownTimeout");
            if (d.isNegative()) {
                throw new IllegalArgumentException("shutdownTimeout must be >= 0, was " + d);
            }
            this.shutdownTimeout = d;
            return this;
        }

        /** Largest upload of any purpose. Default 512 MB. */
        public Builder maxFileBytes(long n) {
            this.maxFileBytes = atLeast("maxFileBytes", n, 1);
            return this;
        }

        /** Largest batch input file. Default 200 MB. */
        public Builder maxBatchFileBytes(long n) {
            this.maxBatchFileBytes = atLeast("maxBatchFileBytes", n, 1);
            return this;
        }

        /** Most lines per batch. Default 50,000. */
        public Builder maxRequestsPerBatch(int n) {
            this.maxRequestsPerBatch = atLeast("maxRequestsPerBatch", n, 1);
            return this;
        }

        /** Longest input line. Default 16 MB. */
        public Builder maxLineBytes(int n) {
            this.maxLineBytes = atLeast("maxLineBytes", n, 64);
            return this;
        }

        /** The limiter asked before each upload, keyed by caller. Default 600 per minute per caller. */
        public Builder uploadRateLimiter(RateLimiter limiter) {
            this.uploadRateLimiter = Objects.requireNonNull(limiter, "uploadRateLimiter");
            return this;
        }

        /** The limiter asked before each batch creation, keyed by caller. Default 600 per minute per caller. */
        public Builder batchRateLimiter(RateLimiter limiter) {
            this.batchRateLimiter = Objects.requireNonNull(limiter, "batchRateLimiter");
            return this;
        }

        /** Retries of a failing handler call before it is recorded as failed, and the first backoff. Default 3, 100 ms. */
        public Builder handlerRetries(int retries, Duration initialBackoff) {
            this.handlerRetries = atLeast("handlerRetries", retries, 0);
            this.handlerBackoff = positive("handlerBackoff", initialBackoff);
            return this;
        }

        /** This node's id in leases. Default a random one per start. */
        public Builder nodeId(String id) {
            this.nodeId = Objects.requireNonNull(id, "nodeId");
            return this;
        }

        /** Starts the service. */
        public BatchService build() {
            List<ResultHandler> h = new ArrayList<>(handlers);
            if (h.isEmpty() && discover) {
                ServiceLoader.load(ResultHandler.class).forEach(h::add);
            }
            List<InferenceBackendProvider> p = new ArrayList<>(providers);
            if (p.isEmpty() && discover) {
                ServiceLoader.load(InferenceBackendProvider.class).forEach(p::add);
            }
            Path dir = dataDirectory;
            Supplier<JobStore> store = jobStore != null ? jobStore : () -> JdbcJobStore.h2(dir);
            Clock c = clock;
            Settings s = new Settings(dir, store, c, meterRegistry != null ? meterRegistry : new SimpleMeterRegistry(),
                    List.copyOf(h), List.copyOf(backends), List.copyOf(p), Map.copyOf(models), backendName,
                    Map.copyOf(backendOptions), threads, maxInFlight, lease, pollInterval, shutdownTimeout,
                    maxFileBytes, maxBatchFileBytes,
                    new ValidationLimits(maxRequestsPerBatch, maxBatchFileBytes, maxLineBytes),
                    uploadRateLimiter != null ? uploadRateLimiter
                            : new TokenBucketRateLimiter(DEFAULT_UPLOADS_PER_MINUTE, Duration.ofMinutes(1), c),
                    batchRateLimiter != null ? batchRateLimiter
                            : new TokenBucketRateLimiter(DEFAULT_BATCHES_PER_MINUTE, Duration.ofMinutes(1), c),
                    new HandlerDispatcher.HandlerRetry(handlerRetries, handlerBackoff, handlerBackoff.multipliedBy(20)),
                    nodeId != null ? nodeId : "node-" + Ids.random(8));
            return new BatchService(s);
        }

        private static int atLeast(String name, int v, int min) {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", was " + v);
            }
            return v;
        }

        private static long atLeast(String name, long v, long min) {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", was " + v);
            }
            return v;
        }

        private static Duration positive(String name, Duration d) {
            Objects.requireNonNull(d, name);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive, was " + d);
            }
            return d;
        }
    }
}
