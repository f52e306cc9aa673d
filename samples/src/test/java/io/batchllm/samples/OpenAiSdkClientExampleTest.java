package io.batchllm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.models.batches.Batch;
import io.batchllm.BatchService;
import io.batchllm.http.BatchHttpServer;
import io.batchllm.http.auth.Authenticator;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenAiSdkClientExampleTest {
    @TempDir
    Path dir;

    @Test
    void theSdkExampleRunsABatchAgainstAServer() throws Exception {
        Path requests = Files.writeString(dir.resolve("requests.jsonl"), Jsonl.chatLines(4));
        try (BatchService service = BatchService.builder().dataDirectory(dir.resolve("data"))
                .backend(TestBackend.standard()).discoverPlugins(false).pollInterval(Duration.ofMillis(20)).build();
             BatchHttpServer server = BatchHttpServer.builder(service).port(0).authenticator(Authenticator.none())
                     .spoolDirectory(dir.resolve("data/tmp")).start()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Batch done = OpenAiSdkClientExample.run("http://127.0.0.1:" + server.port() + "/v1", "any-key", requests, out);
            assertEquals("completed", done.status().asString());
            String text = out.toString(StandardCharsets.UTF_8);
            assertEquals(4, text.lines().count());
            assertTrue(text.contains("echo: hello 3"), text);
        }
    }
}
