package io.batchllm.engine;

import io.batchllm.engine.chat.ChatTemplateException;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link InferenceBackend} that runs models in this process, one {@link LocalEngine} per model.
 * Serves {@code /v1/chat/completions} and {@code /v1/completions}; keeps twice the engines' sequence
 * slots in flight so that a new request is queued as soon as a sequence finishes.
 *
 * <p>Its engines' meters (preemptions, KV blocks) are registered by {@link #bindTo}, which the batch
 * service calls with its registry.
 *
 * <p>Thread safe. Owns its engines: {@link #close()} stops them and closes their executors.
 */
public final class LocalBackend implements InferenceBackend, MeterBinder {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

    private final Map<String, LocalEngine> engines;

    /** A backend over already started engines, by model name; it takes ownership of them. */
    public LocalBackend(Map<String, LocalEngine> engines) {
        if (engines.isEmpty()) {
            throw new IllegalArgumentException("a local backend needs at least one model");
        }
        this.engines = Map.copyOf(engines);
    }

    /**
     * Loads every model of {@code config} into an engine: the executor from {@code executors}, the
     * tokenizer and chat template from the GGUF metadata (ChatML, as llama.cpp falls back to, for a
     * model without one), limits from the backend options (see {@link EngineLimits#fromOptions}).
     *
     * @param backendName names the device in the chat responses' {@code system_fingerprint}
     * @param executors loads a model file onto the device
     * @param clock gives the responses' {@code created}, and the chat templates' {@code strftime_now}
     *     (read in the system time zone, as Hugging Face's {@code datetime.now()})
     * @throws ModelFormatException naming the model and its file when one cannot be loaded (the models
     *     loaded before it are closed again)
     * @throws IllegalArgumentException for a bad or unknown backend option, naming it
     */
    public static LocalBackend load(BackendConfig config, String backendName,
            Function<Path, ? extends DeviceExecutor> executors, Clock clock) {
        return load(config, backendName, executors, clock, Set.of());
    }

    /**
     * {@link #load(BackendConfig, String, Function, Clock)} for a backend that reads options of its own
     * (a GPU's memory fraction, say) besides the engine's limits.
     *
     * @param backendOptions the option names the backend reads itself; any option that is neither one
     *     of these nor one of {@link EngineLimits#OPTIONS} is refused by name
     */
    public static LocalBackend load(BackendConfig config, String backendName,
            Function<Path, ? extends DeviceExecutor> executors, Clock clock, Set<String> backendOptions) {
        EngineLimits limits = EngineLimits.fromOptions(config.options(), backendOptions);
        Map<String, LocalEngine> engines = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> model : config.models().entrySet()) {
                engines.put(model.getKey(), loadEngine(model.getKey(), model.getValue(), backendName, executors,
                        limits, clock));
            }
        } catch (RuntimeException e) {
            engines.values().forEach(LocalEngine::close);
            throw e;
        }
        return new LocalBackend(engines);
    }

    private static LocalEngine loadEngine(String name, Path file, String backendName,
            Function<Path, ? extends DeviceExecutor> executors, EngineLimits limits, Clock clock) {
        DeviceExecutor executor;
        try {
            executor = executors.apply(file);
        } catch (RuntimeException e) {
            throw new ModelFormatException("model '" + name + "' cannot be loaded from " + file + ": " + e.getMessage(), e);
        }
        try {
            LocalEngine.Builder engine;
            // the executor maps the file for its tensors; the metadata is read from a second, short-lived mapping
            try (GgufFile gguf = GgufFile.open(file)) {
                engine = LocalEngine.builder(name, executor, Tokenizer.fromGguf(gguf));
                try {
                    // strftime_now: the engine's clock, in local time as Hugging Face's datetime.now()
                    Clock local = clock.withZone(ZoneId.systemDefault());
                    engine.chatTemplate(ChatTemplates.fromMetadata(gguf.metadata(), local).orElseGet(() -> {
                        log.info("model '{}' ({}) has no {}; chat requests use ChatML, as llama.cpp does", name, file,
                                ChatTemplates.METADATA_KEY);
                        return ChatTemplates.chatMlFallback(local);
                    }));
                } catch (ChatTemplateException e) {
                    // completions still work; chat requests are refused with this reason
                    log.warn("model '{}' ({}): its chat template is unusable, chat requests will be refused: {}",
                            name, file, e.getMessage());
                    engine.chatTemplateProblem(new ChatTemplateException(e.reason(), "model " + name
                            + "'s chat template cannot be used (" + e.getMessage() + "); send /v1/completions requests"
                            + " with a prompt instead"));
                }
            }
            LocalEngine started = engine.limits(limits).clock(clock)
                    .systemFingerprint(fingerprint(backendName, executor, file)).start();
            if (name.equals(DemoModel.NAME) && file.getFileName().toString().equals(DemoModel.FILE_NAME)) {
                log.info(DemoModel.NOTICE);
            }
            return started;
        } catch (RuntimeException e) {
            executor.close();
            throw new ModelFormatException("model '" + name + "' cannot be loaded from " + file + ": " + e.getMessage(), e);
        }
    }

    /** Identifies the model and the device it runs on, so seeded results can be told apart across them. */
    private static String fingerprint(String backendName, DeviceExecutor executor, Path file) {
        int hash = (executor.config().toString() + "|" + file.getFileName()).hashCode();
        return "fp_" + backendName + "_" + HexFormat.of().toHexDigits(hash);
    }

    /** Registers every engine's meters, each tagged with its model. */
    @Override
    public void bindTo(MeterRegistry registry) {
        engines.values().forEach(e -> e.bindTo(registry));
    }

    @Override
    public Set<String> models() {
        return engines.keySet();
    }

    @Override
    public Set<String> endpoints() {
        return Set.of(Endpoint.CHAT_COMPLETIONS.path(), Endpoint.COMPLETIONS.path());
    }

    /** Twice the engines' sequence slots: the slots plus as many requests ready to take their place. */
    @Override
    public int maxInFlight() {
        long slots = 0;
        for (LocalEngine e : engines.values()) {
            slots += e.limits().maxSequences();
        }
        return (int) Math.min(Integer.MAX_VALUE, 2 * slots);
    }

    /** The engines' generated tokens, summed. */
    @Override
    public long generatedTokens() {
        long sum = 0;
        for (LocalEngine e : engines.values()) {
            sum += e.generatedTokens();
        }
        return sum;
    }

    @Override
    public List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
        List<CompletableFuture<InferenceResult>> futures = new ArrayList<>(requests.size());
        for (InferenceRequest r : requests) {
            futures.add(submit(r));
        }
        return futures;
    }

    private CompletableFuture<InferenceResult> submit(InferenceRequest r) {
        LocalEngine engine = engines.get(r.model());
        if (engine == null) {
            return CompletableFuture.completedFuture(InferenceResult.error(404, "invalid_request_error",
                    "model_not_found", "model", "model '" + r.model() + "' is not served by this backend; it serves "
                            + String.join(", ", engines.keySet().stream().sorted().toList())));
        }
        return Endpoint.fromPath(r.url())
                .map(endpoint -> engine.submit(endpoint, r.body()))
                .orElseGet(() -> CompletableFuture.completedFuture(InferenceResult.invalidRequest("url",
                        "unsupported_endpoint", "url " + r.url() + " is not served by the local engine; use "
                                + Endpoint.CHAT_COMPLETIONS.path() + " or " + Endpoint.COMPLETIONS.path())));
    }

    /** Stops every engine (unfinished requests complete exceptionally) and closes their executors. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (LocalEngine e : engines.values()) {
            try {
                e.close();
            } catch (RuntimeException ex) {
                if (first == null) {
                    first = ex;
                } else {
                    first.addSuppressed(ex);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
