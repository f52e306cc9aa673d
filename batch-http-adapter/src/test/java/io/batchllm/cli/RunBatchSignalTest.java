package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Regression test: Ctrl-C (SIGINT) or SIGTERM during {@code run-batch} wrote nothing, left its
 * temporary data directory behind and exited 130 with "Database is already closed" in the log (H2's
 * own shutdown hook closed the database while the command's hook still cancelled and wrote results).
 * Now a child JVM signalled mid-batch writes the finished lines to the output file and the rest as
 * {@code batch_cancelled} to the error file, every custom_id once, removes its temporary directory,
 * and exits 130 (SIGINT) or 143 (SIGTERM).
 */
class RunBatchSignalTest {
    private static final int LINES = 200;
    private static final Pattern PROGRESS = Pattern.compile("progress: (\\d+)/" + LINES + " requests");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "SIG{0} exits {1}")
    @CsvSource({"INT, 130", "TERM, 143"})
    void aSignalMidBatchWritesWhatFinishedAndTheRestAsCancelled(String signal, int exitCode) throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.write(in, IntStream.range(0, LINES).mapToObj(i -> "{\"custom_id\":\"r" + i + "\",\"method\":\"POST\","
                + "\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}]}}").toList());
        Path model = Files.writeString(dir.resolve("model.gguf"), "the test backend ignores the file");
        Path out = dir.resolve("out.jsonl");
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        try (ChildJvm child = ChildJvm.start(List.of("-Djava.io.tmpdir=" + tmp), Map.of(), RunBatchChild.class,
                "run-batch", "-i", in.toString(), "-o", out.toString(), "--model", "test-model=" + model)) {
            child.awaitLine(l -> progress(l) >= 5);
            child.signal(signal);
            assertEquals(exitCode, child.awaitExit(), child.output());
            assertFalse(child.output().contains("Database is already closed"), child.output());

            List<JsonNode> done = RunBatchCommandTest.jsonl(out);
            List<JsonNode> errors = RunBatchCommandTest.jsonl(dir.resolve("out.errors.jsonl"));
            assertTrue(done.size() >= 5, () -> done.size() + " lines finished; " + child.output());
            assertTrue(errors.size() > 0, "the batch was cut short, so some lines were cancelled");
            Map<String, Integer> seen = new HashMap<>();
            for (JsonNode line : done) {
                assertEquals(200, line.path("response").path("status_code").asInt(), line.toString());
                seen.merge(line.path("custom_id").asText(), 1, Integer::sum);
            }
            for (JsonNode line : errors) {
                assertEquals("batch_cancelled", line.path("error").path("code").asText(), line.toString());
                seen.merge(line.path("custom_id").asText(), 1, Integer::sum);
            }
            assertEquals(LINES, seen.size(), "every custom_id is in one of the two files");
            assertTrue(seen.values().stream().allMatch(n -> n == 1), "no custom_id twice: " + seen);
            try (Stream<Path> left = Files.list(tmp)) {
                assertEquals(List.of(), left.toList(), "the temporary data directory is removed");
            }
        }
    }

    private static int progress(String line) {
        Matcher m = PROGRESS.matcher(line);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
}
