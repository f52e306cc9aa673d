package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.BatchService;
import io.batchllm.http.BatchHttpServer;
import io.batchllm.testing.TestBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code batchllm serve}: options from the command line, the environment and --config; start and graceful stop. */
class ServeCommandTest {
    @TempDir
    Path dir;

    private final AtomicReference<ServiceConfig> seen = new AtomicReference<>();
    private final CompletableFuture<BatchHttpServer> started = new CompletableFuture<>();
    private final StringWriter err = new StringWriter();

    private ServeCommand command() {
        return new ServeCommand((config, url, user, password, registry) -> {
            seen.set(config);
            return BatchService.builder().dataDirectory(config.dataDirectory()).backend(TestBackend.standard())
                    .discoverPlugins(false).meterRegistry(registry).shutdownTimeout(Duration.ofSeconds(5)).build();
        }, started::complete);
    }

    private CommandLine commandLine(ServeCommand serve, String[] args, Map<String, String> env) {
        CommandLine cl = BatchLlmCommand.commandLine(new CommandLine.IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ServeCommand.class ? (K) serve : CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setErr(new PrintWriter(err, true));
        return BatchLlmCommand.withConfigDefaults(cl, args, env);
    }

    @Test
    void servesUntilStoppedAndWarnsThatAuthNoneIsForLocalUse() throws Exception {
        ServeCommand serve = command();
        String[] args = {"serve", "--port", "0", "--auth", "none", "--data-dir", dir.toString(),
                "--model", "test-model=unused.gguf"};
        CommandLine cl = commandLine(serve, args, Map.of());
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(args));
        BatchHttpServer server = started.get(30, TimeUnit.SECONDS);
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, models.statusCode());
            assertTrue(models.body().contains("\"id\":\"test-model\""), models.body());
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("http_server_requests_seconds_count{method=\"GET\",route=\"/v1/models\""),
                    metrics.body());
        }
        serve.stop();
        assertEquals(0, exit.get(30, TimeUnit.SECONDS));
        assertTrue(err.toString().contains("WARNING: --auth none"), err.toString());
        assertEquals(Map.of("test-model", Path.of("unused.gguf")), seen.get().models());
    }

    @Test
    void optionsComeFromTheCommandLineThenTheEnvironmentThenTheConfigFile() throws Exception {
        Path config = dir.resolve("batchllm.properties");
        Files.writeString(config, "port=7001\nhost=0.0.0.0\ndb-user=from-file\nauth=none\n");
        ServeCommand serve = new ServeCommand();
        String[] args = {"serve", "--config", config.toString(), "--db-user", "from-args"};
        CommandLine cl = commandLine(serve, args, Map.of("BATCHLLM_PORT", "7002", "BATCHLLM_DB_PASSWORD", "pw"));
        cl.parseArgs(args);
        assertEquals(7002, serve.port);
        assertEquals("0.0.0.0", serve.host);
        assertEquals("from-args", serve.dbUser);
        assertEquals("pw", serve.dbPassword);
        assertEquals("none", serve.auth);
        assertEquals(Path.of("batchllm-data"), serve.dataDir);
    }

    @Test
    void anUnreadableConfigFileIsAUsageError() {
        String[] args = {"serve", "--config", dir.resolve("missing.properties").toString()};
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> commandLine(command(), args, Map.of()));
        assertTrue(e.getMessage().contains("missing.properties"), e.getMessage());
    }

    @Test
    void anUnknownAuthModeIsAUsageErrorAndStartsNothing() {
        String[] args = {"serve", "--port", "0", "--auth", "ldap", "--data-dir", dir.toString(),
                "--model", "test-model=unused.gguf"};
        assertEquals(ExitCodes.USAGE, commandLine(command(), args, Map.of()).execute(args));
        assertTrue(err.toString().contains("unknown --auth mode 'ldap'"), err.toString());
        assertTrue(!started.isDone());
    }
}
