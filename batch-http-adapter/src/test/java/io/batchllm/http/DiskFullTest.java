package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.http.auth.Authenticator;
import io.batchllm.testing.FullDisk;
import io.batchllm.testing.Poll;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression test: on a full disk uploads answered 500, H2 closed itself, and after space was freed
 * every /v1 call still answered 500 until a restart, while /health and /ready said 200. The job
 * store's database lives on {@link FullDisk}, whose writes fail as a full disk's do.
 */
class DiskFullTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LINE = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";

    @TempDir
    Path dir;

    @AfterEach
    void freeTheDisk() {
        FullDisk.fill(false);
    }

    @Test
    void aFullDiskAnswers507UntilSpaceReturnsAndReadinessSaysSo() throws Exception {
        try (TestServer s = new TestServer(dir, b -> b.database(FullDisk.h2Url(dir.resolve("batchllm")), "sa", ""),
                b -> b.authenticator(Authenticator.none()))) {
            assertEquals(200, s.send(HttpConformanceTest.upload(s, null, "first", LINE)).statusCode());

            FullDisk.fill(true);
            HttpResponse<String> full = s.send(HttpConformanceTest.upload(s, null, "first", LINE));
            assertEquals(507, full.statusCode(), full.body());
            JsonNode error = JSON.readTree(full.body()).get("error");
            assertEquals("insufficient_storage", error.get("code").asText(), full.body());
            assertTrue(error.get("message").asText().contains("disk"), full.body());
            HttpResponse<String> ready = s.send(s.request("/ready").GET());
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("disk"), ready.body());

            FullDisk.fill(false);
            Poll.until("uploads work again once the disk has room", () -> status(s, () ->
                    s.send(HttpConformanceTest.upload(s, null, "first", LINE))) == 200);
            // readiness probes the disk at most once a second, so it may lag by that much
            Poll.until("ready again", () -> status(s, () -> s.send(s.request("/ready").GET())) == 200);
            HttpResponse<String> list = s.send(s.request("/v1/files").GET());
            assertEquals(200, list.statusCode(), list.body());
            assertEquals(2, JSON.readTree(list.body()).get("data").size(), "the upload refused meanwhile left no file");
        }
    }

    @FunctionalInterface
    private interface Call {
        HttpResponse<String> send() throws Exception;
    }

    private static int status(TestServer s, Call call) {
        try {
            return call.send().statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
