package io.batchllm.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.testing.Jsonl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM runs a 2,000-line batch and is killed with SIGKILL midway; a new service opens the same
 * data directory and finishes it. Every custom_id must appear exactly once in the result files, and
 * the requests executed twice must be at most the in-flight bound (the rows leased and unstored at
 * the moment of the kill).
 */
class CrashRecoveryTest {
    private static final int LINES = 2_000;
    private static final int MAX_IN_FLIGHT = 32;

    @TempDir
    Path dir;

    @Test
    void aKilledServiceLosesNothingAndRerunsAtMostTheInFlightBound() throws Exception {
        Path data = dir.resolve("data");
        Path input = dir.resolve("input.jsonl");
        Files.writeString(input, Jsonl.chatLines(LINES));
        Path childLog = dir.resolve("child.log");
        Files.createFile(childLog);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), data.toString(), input.toString(), childLog.toString(),
                String.valueOf(MAX_IN_FLIGHT))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.out").toFile())
                .start();
        try {
            // Kill once a good part of the batch ran, but long before the end.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (lines(childLog).size() < LINES / 4) {
                assertTrue(child.isAlive(), () -> "child died: " + read(dir.resolve("child.out")));
                assertTrue(System.nanoTime() < deadline, "child made no progress");
                Thread.sleep(20);
            }
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no graceful close
            child.waitFor(30, TimeUnit.SECONDS);
        }
        List<String> firstRun = lines(childLog);
        assertTrue(firstRun.size() < LINES, "the child finished before it was killed; slow it down");
        String batchId = Files.readString(data.resolve("batch-id"));

        Path secondLog = dir.resolve("second.log");
        Files.createFile(secondLog);
        Batch done;
        try (BatchService service = BatchService.builder()
                .dataDirectory(data)
                .backend(new RecordingBackend(secondLog, 0, MAX_IN_FLIGHT))
                .discoverPlugins(false)
                .leaseDuration(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(20))
                .build()) {
            done = service.batches().await(batchId, Duration.ofSeconds(90));
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals(LINES, done.requestCounts().completed());

            List<JsonNode> out = Jsonl.read(service.files().content(done.outputFileId()));
            Map<String, Integer> seen = new HashMap<>();
            for (JsonNode line : out) {
                seen.merge(line.get("custom_id").asText(), 1, Integer::sum);
            }
            assertEquals(LINES, seen.size(), "every custom_id is in the output");
            assertTrue(seen.values().stream().allMatch(n -> n == 1), "no custom_id twice");
        }

        Set<String> before = new HashSet<>(firstRun);
        List<String> secondRun = lines(secondLog);
        long rerun = secondRun.stream().filter(before::contains).count();
        assertEquals(LINES, new HashSet<String>() {{ addAll(firstRun); addAll(secondRun); }}.size(),
                "every line ran in one of the two processes");
        assertTrue(rerun <= MAX_IN_FLIGHT, "re-executed " + rerun + " requests; the in-flight bound is " + MAX_IN_FLIGHT);
        System.out.printf("crash test: first run executed %d, second %d, re-executed %d (bound %d)%n",
                firstRun.size(), secondRun.size(), rerun, MAX_IN_FLIGHT);
    }

    private static List<String> lines(Path p) throws Exception {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(p)) {
            if (!l.isBlank()) {
                out.add(l);
            }
        }
        return out;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no output)";
        }
    }
}
