package io.batchllm.http.server;

import io.batchllm.NotFoundException;
import io.batchllm.BatchException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /v1/models}, {@code /health}, {@code /ready}, {@code /metrics}. */
final class SystemRoutes {
    private static final Logger log = LoggerFactory.getLogger(SystemRoutes.class);
    /** Prometheus text exposition format 0.0.4, which every scraper reads. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final ServerAssembly.Settings settings;
    private final long startedAt = Instant.now().getEpochSecond();
    private final PrometheusMeterRegistry prometheus;

    SystemRoutes(ServerAssembly.Settings settings) {
        this.settings = settings;
        this.prometheus = settings.prometheus() != null ? settings.prometheus()
                : settings.service().meterRegistry() instanceof PrometheusMeterRegistry p ? p : null;
    }

    void register(Routes routes) {
        routes.add("GET", "/v1/models", (ex, id) -> ex.json(200, Map.of("object", "list", "data",
                settings.service().models().stream().sorted().map(this::model).toList())));
        routes.add("GET", "/v1/models/{id}", (ex, id) -> {
            if (!settings.service().models().contains(id)) {
                throw new NotFoundException("model", "The model '" + id + "' does not exist. Models served here: "
                        + String.join(", ", settings.service().models().stream().sorted().toList()) + ".");
            }
            ex.json(200, model(id));
        });
        routes.add("GET", "/health", (ex, id) -> ex.json(200, Map.of("status", "ok")));
        routes.add("GET", "/ready", (ex, id) -> ready(ex));
        routes.add("GET", "/metrics", (ex, id) -> metrics(ex));
    }

    /** OpenAI's Model object: id, object, created, owned_by. */
    private Map<String, Object> model(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", startedAt);
        m.put("owned_by", "batchllm");
        return m;
    }

    /**
     * Ready when the service has no problem ({@link io.batchllm.BatchService#problems()}): its job store
     * answers, its worker threads run, its disk has room, a model has a backend.
     */
    private void ready(Exchange ex) {
        List<String> problems = settings.service().problems();
        if (!problems.isEmpty()) {
            // The answer says why (never with driver text); the parts that failed log the details.
            log.debug("readiness: not ready: {}", problems);
            throw new BatchException(503, "server_error", "not_ready", null, "Not ready: " + String.join("; ", problems));
        }
        ex.json(200, Map.of("status", "ready", "models", settings.service().models().stream().sorted().toList()));
    }

    private void metrics(Exchange ex) {
        if (prometheus == null) {
            throw new BatchException(503, "server_error", "metrics_unavailable", null, "Metrics are not exported: "
                    + "the service's meter registry is not a PrometheusMeterRegistry.");
        }
        ex.text(200, PROMETHEUS_TEXT, prometheus.scrape());
    }
}
