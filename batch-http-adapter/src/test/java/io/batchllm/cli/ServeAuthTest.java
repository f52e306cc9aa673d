package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.batchllm.BatchService;
import io.batchllm.http.BatchHttpServer;
import io.batchllm.http.auth.IssuedApiKey;
import io.batchllm.http.auth.JdbcApiKeyStore;
import io.batchllm.http.auth.Role;
import io.batchllm.store.JdbcJobStore;
import io.batchllm.testing.TestBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code serve} with real authentication: API keys from the job store, and JWTs. */
class ServeAuthTest {
    private static final String SECRET = "a-shared-secret-that-is-at-least-32-bytes-long";

    @TempDir
    Path dir;

    private final AtomicReference<BatchService> service = new AtomicReference<>();
    private final CompletableFuture<BatchHttpServer> started = new CompletableFuture<>();

    /** Runs {@code serve} with the test backend until {@code body} is done. */
    private void serve(ThrowingConsumer body, String... extraArgs) throws Exception {
        ServeCommand serve = new ServeCommand((config, url, user, password, registry) -> {
            BatchService s = BatchService.builder().dataDirectory(config.dataDirectory()).backend(TestBackend.standard())
                    .discoverPlugins(false).meterRegistry(registry).shutdownTimeout(Duration.ofSeconds(5)).build();
            service.set(s);
            return s;
        }, started::complete);
        CommandLine cl = BatchLlmCommand.commandLine(new CommandLine.IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ServeCommand.class ? (K) serve : CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setErr(new PrintWriter(new StringWriter(), true));
        String[] base = {"serve", "--port", "0", "--data-dir", dir.toString(), "--model", "test-model=unused.gguf"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extraArgs))
                .toArray(String[]::new);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(args));
        BatchHttpServer server = started.get(30, TimeUnit.SECONDS);
        try (HttpClient http = HttpClient.newHttpClient()) {
            body.accept(new Client(http, "http://127.0.0.1:" + server.port() + "/v1"));
        } finally {
            serve.stop();
        }
        assertEquals(0, exit.get(30, TimeUnit.SECONDS));
    }

    @FunctionalInterface
    interface ThrowingConsumer {
        void accept(Client c) throws Exception;
    }

    record Client(HttpClient http, String base) {
        HttpResponse<String> get(String path, String token) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> upload(String token, String content) throws Exception {
            String boundary = "b0undary";
            String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                    + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                    + "Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
            return http.send(HttpRequest.newBuilder(URI.create(base + "/files"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static String id(String json) {
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }

    @Test
    void apiKeysFromTheJobStoreSeparateTenantsAndRoles() throws Exception {
        serve(c -> {
            JdbcApiKeyStore keys = JdbcApiKeyStore.on(((JdbcJobStore) service.get().jobStore()).dataSource());
            IssuedApiKey alice = keys.create("acme", Role.MEMBER);
            IssuedApiKey bob = keys.create("globex", Role.MEMBER);
            IssuedApiKey reader = keys.create("acme", Role.READER);
            IssuedApiKey admin = keys.create("ops", Role.ADMIN);
            IssuedApiKey revoked = keys.create("acme", Role.MEMBER);
            keys.revoke(revoked.info().id());

            assertEquals(401, c.get("/files", null).statusCode(), "no key");
            assertEquals(401, c.get("/files", "sk-batchllm-not-a-key").statusCode(), "bad key");
            HttpResponse<String> refused = c.get("/files", revoked.token());
            assertEquals(401, refused.statusCode(), "revoked key");
            assertTrue(refused.body().contains("\"error\""), refused.body());

            HttpResponse<String> up = c.upload(alice.token(), "{\"custom_id\":\"a\"}\n");
            assertEquals(200, up.statusCode(), up.body());
            String fileId = id(up.body());
            assertEquals(200, c.get("/files/" + fileId, alice.token()).statusCode());
            assertEquals(200, c.get("/files/" + fileId, reader.token()).statusCode(), "same tenant, read-only");
            assertEquals(200, c.get("/files/" + fileId, admin.token()).statusCode(), "admin sees every tenant");
            HttpResponse<String> other = c.get("/files/" + fileId, bob.token());
            assertEquals(404, other.statusCode(), "another tenant's file is a 404, never a 403");
            assertTrue(!c.get("/files", bob.token()).body().contains(fileId), "not listed for another tenant");
            assertEquals(403, c.upload(reader.token(), "{}\n").statusCode(), "a reader cannot upload");
        });
    }

    @Test
    void jwtsFromAnIdentityProviderAreCheckedAndMappedToTenants() throws Exception {
        serve(c -> {
            String ok = token("acme", "member", Instant.now().plusSeconds(600), "https://idp.example", "batchllm");
            assertEquals(200, c.get("/files", ok).statusCode());
            assertEquals(401, c.get("/files", token("acme", "member", Instant.now().minusSeconds(3600),
                    "https://idp.example", "batchllm")).statusCode(), "expired");
            assertEquals(401, c.get("/files", token("acme", "member", Instant.now().plusSeconds(600),
                    "https://evil.example", "batchllm")).statusCode(), "wrong issuer");
            assertEquals(401, c.get("/files", token("acme", "member", Instant.now().plusSeconds(600),
                    "https://idp.example", "another-api")).statusCode(), "wrong audience");
            assertEquals(401, c.get("/files", token("acme", "superuser", Instant.now().plusSeconds(600),
                    "https://idp.example", "batchllm")).statusCode(), "unknown role");
        }, "--auth", "jwt", "--jwt-issuer", "https://idp.example", "--jwt-audience", "batchllm", "--jwt-secret", SECRET);
    }

    @Test
    void jwtModeWithoutAKeySourceIsAUsageError() {
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = BatchLlmCommand.withConfigDefaults(cl, new String[0], Map.of()).execute("serve", "--port", "0",
                "--data-dir", dir.toString(), "--auth", "jwt", "--jwt-issuer", "i", "--jwt-audience", "a");
        assertEquals(2, code);
        assertTrue(err.toString().contains("--jwt-jwks-file"), err.toString());
    }

    @Test
    void aMissingJwksFileIsAUsageErrorOfOneLine() {
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        Path missing = dir.resolve("no-such-jwks.json");
        int code = BatchLlmCommand.withConfigDefaults(cl, new String[0], Map.of()).execute("serve", "--port", "0",
                "--data-dir", dir.toString(), "--auth", "jwt", "--jwt-issuer", "i", "--jwt-audience", "a",
                "--jwt-jwks-file", missing.toString());
        assertEquals(2, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains(missing.toString()), err.toString());
    }

    private static String token(String tenant, String role, Instant expires, String issuer, String audience)
            throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("user-1").issuer(issuer).audience(audience)
                .expirationTime(Date.from(expires)).claim("tenant", tenant).claim("role", role).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
