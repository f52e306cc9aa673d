package io.batchllm.http;

import io.batchllm.BatchService;
import io.batchllm.http.auth.Authenticator;
import io.batchllm.testing.TestBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A service with the deterministic test backend (model {@code test-model}) behind a server on a free port. */
final class TestServer implements AutoCloseable {
    final Path dataDir;
    final TestBackend backend = TestBackend.standard();
    final BatchService service;
    final BatchHttpServer server;
    final HttpClient http = HttpClient.newHttpClient();

    TestServer(Path dataDir) {
        this(dataDir, b -> b.authenticator(Authenticator.none()));
    }

    TestServer(Path dataDir, UnaryOperator<BatchHttpServer.Builder> customize) {
        this(dataDir, b -> b, customize);
    }

    /** With changes to the service's builder too (another job store, say). */
    TestServer(Path dataDir, UnaryOperator<BatchService.Builder> customizeService,
               UnaryOperator<BatchHttpServer.Builder> customize) {
        this.dataDir = dataDir;
        this.service = customizeService.apply(BatchService.builder()
                .dataDirectory(dataDir)
                .backend(backend)
                .discoverPlugins(false)
                .meterRegistry(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
                .pollInterval(Duration.ofMillis(20))
                .shutdownTimeout(Duration.ofSeconds(5)))
                .build();
        this.server = customize.apply(BatchHttpServer.builder(service).port(0)
                .spoolDirectory(dataDir.resolve("tmp"))
                .stopTimeout(Duration.ofSeconds(5))).start();
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
    }

    @Override
    public void close() {
        backend.releaseHeld();
        server.close();
        service.close();
        http.close();
    }
}
