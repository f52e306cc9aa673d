package io.batchllm.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.testing.Jsonl;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for a batch lost or corrupted by {@code kill -9} right after validation. A child
 * JVM validates 50,000 lines that each fail on their own ({@code stream: true}), so that the batch
 * goes straight on to finalizing, and is killed the moment a client is shown a status. What the client
 * saw must be what the store holds: after a restart the batch completes with every line in the error
 * file, each {@code custom_id} once.
 *
 * <p>Before the fix, validation stored the 50,000 rows in one transaction. H2 shows a commit to other
 * connections before it has written it (for a large one, for hundreds of milliseconds), and recovers a
 * large transaction of a killed process badly: the batch came back {@code validating} with rows that
 * made its re-validation fail on duplicate keys, or stuck in {@code finalizing} with "Row not found in
 * primary index".
 */
class ValidationCrashTest {
    private static final int LINES = 50_000;

    @TempDir
    Path dir;

    @Test
    void aKillTheMomentTheBatchIsShownPastValidatingLosesNothing() throws Exception {
        killWhenShownAndRestart(status -> status != BatchStatus.VALIDATING);
    }

    @Test
    void aKillTheMomentTheBatchIsShownFinalizingLosesNothing() throws Exception {
        killWhenShownAndRestart(status -> status == BatchStatus.FINALIZING);
    }

    private void killWhenShownAndRestart(Predicate<BatchStatus> killWhen) throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Path input = dir.resolve("input.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            sb.append(Jsonl.chatLine("req-" + i, "hello " + i, "\"stream\":true")).append('\n');
        }
        Files.writeString(input, sb);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                ValidationCrashChild.class.getName(), data.toString(), input.toString())
                .redirectError(dir.resolve("child.err").toFile())
                .start();
        String shown = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                String[] f = line.split(" ");
                if (f[0].equals("shown") && killWhen.test(BatchStatus.fromWire(f[1]))) {
                    shown = line;
                    break;
                }
            }
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close
            child.waitFor(30, TimeUnit.SECONDS);
        }
        if (shown == null) {
            fail("the child ended before it showed the status awaited: " + Files.readString(dir.resolve("child.err")));
        }
        String seen = shown;
        assertEquals(String.valueOf(LINES), seen.split(" ")[2], "the client was shown every line: " + seen);
        String batchId = Files.readString(data.resolve("batch-id"));

        try (BatchService service = BatchService.builder()
                .dataDirectory(data)
                .backend(new RecordingBackend(dir.resolve("second.log"), 0, 8))
                .discoverPlugins(false)
                .pollInterval(Duration.ofMillis(20))
                .build()) {
            Batch done = service.batches().await(batchId, Duration.ofSeconds(120));
            assertEquals(BatchStatus.COMPLETED, done.status(), () -> "after a kill when shown '" + seen + "': " + done);
            assertEquals(LINES, done.requestCounts().total());
            assertEquals(LINES, done.requestCounts().failed());
            List<JsonNode> errors = Jsonl.read(service.files().content(done.errorFileId()));
            Set<String> ids = new HashSet<>();
            for (JsonNode e : errors) {
                assertTrue(ids.add(e.get("custom_id").asText()), () -> "custom_id twice: " + e);
            }
            assertEquals(LINES, ids.size(), "every line is in the error file once");
        }
    }
}
