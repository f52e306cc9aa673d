package io.batchllm.internal;

import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which backend serves which model. Backends registered as instances serve the models they name;
 * models registered by path (name → GGUF file) are given to the highest-priority available provider.
 * Each choice, and each provider skipped as unavailable, is logged once.
 */
public final class BackendRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackendRegistry.class);

    private final Map<String, InferenceBackend> byModel = new LinkedHashMap<>();
    private final List<InferenceBackend> backends = new ArrayList<>();

    /**
     * @param instances backends registered as instances
     * @param providers providers (registered or discovered)
     * @param modelFiles models registered by path
     * @param preferredProvider a provider name to use instead of the priority order ({@code cpu},
     *     {@code cuda}), or null for automatic
     * @param threads CPU threads for created backends
     */
    public BackendRegistry(List<InferenceBackend> instances, List<InferenceBackendProvider> providers,
                           Map<String, Path> modelFiles, String preferredProvider, int threads,
                           Map<String, String> options) {
        for (InferenceBackend b : instances) {
            add(b);
        }
        if (!modelFiles.isEmpty()) {
            InferenceBackendProvider chosen = choose(providers, preferredProvider, modelFiles.keySet());
            InferenceBackend b = chosen.create(new BackendConfig(modelFiles, threads, options));
            add(b);
        }
    }

    private static InferenceBackendProvider choose(List<InferenceBackendProvider> providers, String preferred,
                                                   Set<String> models) {
        List<InferenceBackendProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(InferenceBackendProvider::priority).reversed());
        StringBuilder why = new StringBuilder();
        for (InferenceBackendProvider p : sorted) {
            if (preferred != null && !preferred.equals(p.name())) {
                continue;
            }
            Availability a = p.availability();
            if (a.available()) {
                log.info("backend '{}' serves models {} ({})", p.name(), models, a.reason());
                return p;
            }
            log.info("backend '{}' is not available: {}", p.name(), a.reason());
            why.append("\n  ").append(p.name()).append(": ").append(a.reason());
        }
        if (preferred != null) {
            throw new IllegalStateException("backend '" + preferred + "' was asked for but "
                    + (why.isEmpty() ? "no provider of that name is on the class path" : "it is not available:" + why));
        }
        throw new IllegalStateException("no inference backend can serve models " + models
                + (why.isEmpty() ? ": no backend provider is on the class path" : ":" + why));
    }

    private void add(InferenceBackend b) {
        backends.add(b);
        for (String m : b.models()) {
            InferenceBackend prev = byModel.putIfAbsent(m, b);
            if (prev != null && prev != b) {
                throw new IllegalStateException("model '" + m + "' is served by two backends; register it once");
            }
        }
    }

    /** The backend serving {@code model}, or null. */
    public InferenceBackend forModel(String model) {
        return byModel.get(model);
    }

    /** Every model served. */
    public Set<String> models() {
        return byModel.keySet();
    }

    /**
     * Registers the meters of every backend that has some: those implementing Micrometer's
     * {@link MeterBinder} (the local engine's preemptions and KV blocks, for one).
     */
    public void bindMeters(MeterRegistry registry) {
        for (InferenceBackend b : backends) {
            if (b instanceof MeterBinder binder) {
                binder.bindTo(registry);
            }
        }
    }

    /** Sum of the backends' preferred in-flight counts. */
    public int totalMaxInFlight() {
        long sum = 0;
        for (InferenceBackend b : backends) {
            sum += Math.max(1, b.maxInFlight());
        }
        return (int) Math.min(Integer.MAX_VALUE, sum);
    }

    /** Tokens the backends that count them have generated, unfinished requests included. */
    public long generatedTokens() {
        long sum = 0;
        for (InferenceBackend b : backends) {
            sum += Math.max(0, b.generatedTokens());
        }
        return sum;
    }

    @Override
    public void close() {
        for (InferenceBackend b : backends) {
            try {
                b.close();
            } catch (RuntimeException e) {
                log.warn("backend {} failed to close: {}", b, e.toString());
            }
        }
    }
}
