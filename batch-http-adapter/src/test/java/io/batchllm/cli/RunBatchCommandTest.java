package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.DemoModel;
import io.batchllm.testing.TestBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunBatchCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String line(String customId, String content, String extraBody) {
        return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{"
                + "\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]"
                + extraBody + "}}";
    }

    private Path input(String... lines) throws IOException {
        return Files.writeString(dir.resolve("in.jsonl"), String.join("\n", lines) + "\n");
    }

    private Path input(int n) throws IOException {
        return input(IntStream.rangeClosed(1, n).mapToObj(i -> line("r" + i, "hi " + i, "")).toArray(String[]::new));
    }

    /** The lines of a JSONL file, parsed. */
    static List<JsonNode> jsonl(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            if (!l.isBlank()) {
                out.add(JSON.readTree(l));
            }
        }
        return out;
    }

    private static List<String> customIds(List<JsonNode> lines) {
        return lines.stream().map(n -> n.path("custom_id").asText()).sorted().toList();
    }

    @Test
    void aCompletedRunWritesEveryCustomIdOnceAndExitsZero() throws IOException {
        Path in = input(5);
        Path out = dir.resolve("out.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "--input", in.toString(), "--output", out.toString());

        assertEquals(0, code, cli.err());
        List<JsonNode> results = jsonl(out);
        assertEquals(List.of("r1", "r2", "r3", "r4", "r5"), customIds(results));
        JsonNode r1 = results.stream().filter(n -> n.path("custom_id").asText().equals("r1")).findFirst().orElseThrow();
        assertEquals(200, r1.path("response").path("status_code").asInt());
        assertEquals("echo: hi 1",
                r1.path("response").path("body").path("choices").get(0).path("message").path("content").asText());
        assertFalse(Files.exists(dir.resolve("out.errors.jsonl")), "no line failed, so no error file");
        assertTrue(cli.out().contains("output: " + out.toAbsolutePath()), cli.out());
        assertTrue(cli.out().contains("completed: 5 requests, 5 succeeded, 0 failed"), cli.out());
    }

    @Test
    void withoutModelTheDemoModelIsServedFromATemporaryDataDirectoryThatIsDeleted() throws IOException {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(0, code, cli.err());
        ServiceConfig config = cli.config.get();
        assertEquals(Set.of(DemoModel.NAME), config.models().keySet());
        assertEquals(config.dataDirectory().resolve("models").resolve(DemoModel.FILE_NAME),
                config.models().get(DemoModel.NAME));
        assertFalse(Files.exists(config.dataDirectory()), "the temporary data directory is deleted at exit");
    }

    @Test
    void modelsBackendThreadsAndDataDirectoryReachTheService() throws IOException {
        Path gguf = Files.writeString(dir.resolve("m.gguf"), "not read by the test backend");
        Path data = dir.resolve("data");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--model", "a=" + gguf, "--model", "b=" + gguf, "--backend", "CPU", "--threads", "3",
                "--data-dir", data.toString());

        assertEquals(0, code, cli.err());
        assertEquals(new ServiceConfig(data, Map.of("a", gguf, "b", gguf), "cpu", 3), cli.config.get());
        assertTrue(Files.isDirectory(data), "a given data directory is kept");
    }

    @Test
    void engineOptionsReachTheServiceAsBackendOptions() throws IOException {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--engine-option", "prefix_sharing=false", "--engine-option", "kv_cache_tokens=4096");

        assertEquals(0, code, cli.err());
        assertEquals(Map.of("prefix_sharing", "false", "kv_cache_tokens", "4096"), cli.config.get().engineOptions());
    }

    @Test
    void failedLinesGoToTheDefaultErrorFileNextToTheOutput() throws IOException {
        Path in = input(line("ok1", "a", ""), line("bad", "b", ",\"test_status\":400"), line("ok2", "c", ""));
        Path out = dir.resolve("results.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", in.toString(), "-o", out.toString());

        assertEquals(0, code, "a completed batch exits 0 even with failed lines; " + cli.err());
        assertEquals(List.of("ok1", "ok2"), customIds(jsonl(out)));
        List<JsonNode> errors = jsonl(dir.resolve("results.errors.jsonl"));
        assertEquals(List.of("bad"), customIds(errors));
        assertEquals(400, errors.getFirst().path("response").path("status_code").asInt());
        assertTrue(cli.out().contains("1 failed"), cli.out());
    }

    @Test
    void anExplicitErrorsPathIsUsed() throws IOException {
        Path in = input(line("bad", "b", ",\"test_status\":500"));
        Path errors = dir.resolve("sub").resolve("failed.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", in.toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--errors", errors.toString());

        assertEquals(0, code, cli.err());
        assertEquals(List.of("bad"), customIds(jsonl(errors)));
        assertEquals(List.of(), jsonl(dir.resolve("out.jsonl")), "no line succeeded: the output file is empty");
    }

    @Test
    void aDuplicateCustomIdFailsValidationWithTheLineNumberAndExitCodeOne() throws IOException {
        Path in = input(line("a", "x", ""), line("b", "y", ""), line("a", "z", ""));
        Path out = dir.resolve("out.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", in.toString(), "-o", out.toString());

        assertEquals(1, code, cli.err());
        assertTrue(cli.err().contains("failed validation"), cli.err());
        assertTrue(cli.err().contains("line 3: The custom_id 'a' appears more than once"), cli.err());
        assertTrue(cli.err().contains("[duplicate_custom_id]"), cli.err());
        assertFalse(Files.exists(out), "nothing ran, so no output is written");
    }

    @Test
    void aMissingInputFileExitsTwoNamingIt() {
        Path missing = dir.resolve("nope.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", missing.toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(2, code);
        assertEquals("batchllm: input file not found: " + missing.toAbsolutePath(), cli.err().strip());
        assertTrue(cli.config.get() == null, "no service is started");
    }

    @Test
    void aModelArgumentWithoutEqualsSignExitsTwoShowingTheExpectedForm() throws IOException {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--model", "llama.gguf");

        assertEquals(2, code);
        String firstLine = cli.err().lines().findFirst().orElseThrow();
        assertTrue(firstLine.contains("--model") && firstLine.contains("'llama.gguf' has no '='")
                && firstLine.contains("NAME=PATH.gguf"), cli.err());
    }

    @Test
    void aModelFileThatDoesNotExistExitsTwo() throws IOException {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--model", "llama=" + dir.resolve("missing.gguf"));

        assertEquals(2, code);
        assertTrue(cli.err().contains("--model llama=") && cli.err().contains("no such file"), cli.err());
    }

    @Test
    void aServiceThatCannotStartExitsTwoWithItsReason() throws IOException {
        CliRun cli = new CliRun();
        cli.startFailure = new IllegalStateException("cannot load model 'llama' from x.gguf: bad magic");

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(2, code);
        assertEquals("batchllm: cannot start the inference service: cannot load model 'llama' from x.gguf: bad magic",
                cli.err().lines().filter(l -> l.startsWith("batchllm:")).findFirst().orElseThrow());
        assertFalse(Files.exists(cli.config.get().dataDirectory()), "the temporary data directory is still deleted");
    }

    @Test
    void aFirstLineWithoutUrlExitsTwo() throws IOException {
        Path in = input("", "{\"custom_id\":\"a\",\"method\":\"POST\",\"body\":{}}");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", in.toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(2, code);
        assertTrue(cli.err().contains("line 2 has no \"url\""), cli.err());
    }

    @Test
    void anUnknownBackendExitsTwoListingTheChoices() throws IOException {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "-i", input(1).toString(), "-o", dir.resolve("out.jsonl").toString(),
                "--backend", "tpu");

        assertEquals(2, code);
        assertTrue(cli.err().contains("auto, cpu, cuda"), cli.err());
    }

    @Test
    void vllmsInputFileAndOutputFileFlagsWork() throws IOException {
        Path in = input(2);
        Path out = dir.resolve("out.jsonl");
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "--input-file", in.toString(), "--output-file", out.toString());

        assertEquals(0, code, cli.err());
        assertEquals(List.of("r1", "r2"), customIds(jsonl(out)));
    }

    @Test
    void aUrlAsOutputIsRefusedInsteadOfWritingAFileNamedHttp() throws IOException {
        // Regression: -o http://host/out.jsonl wrote the local file http:/host/out.jsonl.
        Path in = input(2);
        CliRun cli = new CliRun();
        java.nio.file.Path cwd = java.nio.file.Path.of("").toAbsolutePath();

        int code = cli.execute("run-batch", "-i", in.toString(), "-o", "http://storage.example/out.jsonl");

        assertEquals(ExitCodes.USAGE, code);
        assertTrue(cli.err().contains("'http://storage.example/out.jsonl' is a URL"), cli.err());
        assertEquals(0, cli.backend.executed(), "nothing ran");
        assertFalse(Files.exists(cwd.resolve("http:")), "no local file or directory named http:");
    }

    @Test
    void helpListsEveryFlagAndTheExitCodes() {
        CliRun cli = new CliRun();

        int code = cli.execute("run-batch", "--help");

        assertEquals(0, code);
        for (String flag : List.of("--input", "--input-file", "--output", "--output-file", "--errors", "--model",
                "--backend", "--data-dir", "--threads", "--help", "--version")) {
            assertTrue(cli.out().contains(flag), flag + " missing from:\n" + cli.out());
        }
        String text = cli.out().replaceAll("\\s+", " "); // help lines wrap at 80 columns
        assertTrue(text.contains("results.jsonl -> results.errors.jsonl"), "the --errors default is documented");
        assertTrue(text.contains("temporary directory, deleted at exit"), "the --data-dir default is documented");
        for (String exit : List.of("0 ", "1 ", "2 ", "3 ", "130 ", "143 ")) {
            assertTrue(cli.out().lines().anyMatch(l -> l.strip().startsWith(exit)), "exit code " + exit + cli.out());
        }
    }

    @Test
    void progressLinesArePrintedInNonTerminalMode() throws IOException {
        CliRun cli = new CliRun(TestBackend.standard(), false, Duration.ZERO);

        int code = cli.execute("run-batch", "-i", input(4).toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(0, code, cli.err());
        List<String> progress = cli.err().lines().filter(l -> l.startsWith("progress: ")).toList();
        assertFalse(progress.isEmpty(), cli.err());
        assertTrue(progress.getLast().startsWith("progress: 4/4 requests, "), progress.getLast());
        assertTrue(progress.getLast().endsWith("ETA 0:00"), progress.getLast());
        assertFalse(cli.err().contains("\r"), "no carriage returns when stderr is not a terminal");
    }

    @Test
    void onATerminalTheProgressBarIsRedrawnInPlace() throws IOException {
        CliRun cli = new CliRun(TestBackend.standard(), true, Duration.ZERO);

        int code = cli.execute("run-batch", "-i", input(2).toString(), "-o", dir.resolve("out.jsonl").toString());

        assertEquals(0, code, cli.err());
        assertTrue(cli.err().contains("\r[########################] 2/2 requests"), cli.err());
        assertFalse(cli.err().contains("progress: "), cli.err());
    }

    @Test
    void progressShowsRequestsInFlightAndTokensSoFarBeforeAnyRequestFinishes() throws Exception {
        // Regression: a long batch showed "0.0 tok/s, ETA --:--" until its first request finished,
        // since tokens were counted only from stored results.
        TestBackend backend = new TestBackend(Set.of("test-model"), 4);
        backend.holdAll(true);
        CliRun cli = new CliRun(backend, false, Duration.ofMillis(10));
        Path in = input(6);
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(
                () -> cli.execute("run-batch", "-i", in.toString(), "-o", dir.resolve("out.jsonl").toString()));
        try {
            awaitTrue(() -> backend.heldCount() == 4, "four requests in flight");
            // each reply "echo: hi N" is 10 characters: the test backend's completion tokens
            awaitTrue(() -> cli.err().contains("progress: 0/6 requests, 4 running, 40 tokens, "), cli::err);
        } finally {
            backend.holdAll(false);
        }
        assertEquals(0, run.get(30, TimeUnit.SECONDS), cli.err());
    }

    @Test
    void interruptCancelsTheBatchWritesWhatFinishedAndExits130() throws Exception {
        TestBackend backend = new TestBackend(Set.of("test-model"), 1);
        backend.holdAll(true);
        CliRun cli = new CliRun(backend, false, Progress.DEFAULT_PLAIN_INTERVAL);
        Path out = dir.resolve("out.jsonl");
        Path in = input(20);
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(
                () -> cli.execute("run-batch", "-i", in.toString(), "-o", out.toString()));
        awaitTrue(() -> backend.heldCount() == 1, "a request in flight");

        cli.command.interrupt();
        backend.holdAll(false);

        assertEquals(130, run.get(30, TimeUnit.SECONDS), cli.err());
        List<JsonNode> done = jsonl(out);
        List<JsonNode> errors = jsonl(dir.resolve("out.errors.jsonl"));
        assertEquals(20, done.size() + errors.size());
        assertEquals(1, done.size(), "only the request in flight at the interrupt ran");
        assertTrue(errors.stream().allMatch(e -> e.path("error").path("code").asText().equals("batch_cancelled")),
                errors.toString());
        assertTrue(cli.err().contains("interrupted, cancelling the batch"), cli.err());
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        awaitTrue(condition, () -> what);
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void theDefaultErrorFileReplacesTheJsonlSuffix() {
        assertEquals(Path.of("a/results.errors.jsonl"), RunBatchCommand.defaultErrorsPath(Path.of("a/results.jsonl")));
        assertEquals(Path.of("out.txt.errors.jsonl"), RunBatchCommand.defaultErrorsPath(Path.of("out.txt")));
    }
}
