package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code run-batch} exactly as a user runs it: the real service factory, the CPU engine found through
 * ServiceLoader, the request files in {@code samples/}.
 */
class RunBatchRealEngineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Path shared() {
        String prop = System.getProperty("batchllm.shared.dir");
        return prop != null ? Path.of(prop) : Path.of("../../shared");
    }

    private int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void theReadmeMainCommandRunsTheSampleRequestsThroughTheDemoModel() throws Exception {
        Path output = dir.resolve("out.jsonl");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = run(out, err, "run-batch", "--input", "../samples/requests.jsonl", "--output", output.toString());
        assertEquals(0, code, err.toString());
        long lines = Files.readAllLines(output).stream().filter(l -> !l.isBlank()).count();
        long inputLines = Files.readAllLines(Path.of("../samples/requests.jsonl")).stream().filter(l -> !l.isBlank()).count();
        assertEquals(inputLines, lines);
        for (String l : Files.readAllLines(output)) {
            JsonNode n = JSON.readTree(l);
            assertEquals(200, n.at("/response/status_code").asInt());
            assertEquals("demo", n.at("/response/body/model").asText());
            assertEquals(32, n.at("/response/body/usage/completion_tokens").asInt(), "max_tokens 32 of random text");
        }
        assertTrue(out.toString().contains("completed: " + inputLines + " requests"), out.toString());
    }

    @Test
    void backendCudaWithoutAGpuFailsAtStartWithTheReasonAndAutoRunsOnTheCpu() throws Exception {
        assumeFalse(driverLoadable(), "libcuda.so.1 loads on this machine: this test is for machines without a driver");
        StringWriter err = new StringWriter();
        int code = run(new StringWriter(), err, "run-batch", "--input", "../samples/requests.jsonl", "--output",
                dir.resolve("cuda.jsonl").toString(), "--backend", "cuda");
        assertEquals(ExitCodes.USAGE, code, err.toString());
        assertTrue(err.toString().contains("backend 'cuda' was asked for but it is not available"), err.toString());
        assertTrue(err.toString().contains("no NVIDIA driver: libcuda.so.1 cannot be loaded"), err.toString());

        StringWriter autoErr = new StringWriter();
        assertEquals(0, run(new StringWriter(), autoErr, "run-batch", "--input", "../samples/requests.jsonl",
                "--output", dir.resolve("auto.jsonl").toString()), autoErr.toString());
    }

    private static boolean driverLoadable() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void runBatchReproducesTheReferenceEngineOnStories260K() throws Exception {
        Path output = dir.resolve("stories.jsonl");
        Path model = shared().resolve("models/stories260K.gguf");
        int code = run(new StringWriter(), new StringWriter(), "run-batch", "--model", "stories=" + model,
                "--input", "../samples/stories-requests.jsonl", "--output", output.toString(), "--threads", "2");
        assertEquals(0, code);
        Map<String, String> expected = new HashMap<>();
        for (String l : Files.readAllLines(shared().resolve("reference/stories260K-greedy.jsonl"))) {
            JsonNode ref = JSON.readTree(l);
            expected.put(ref.get("prompt").asText(), ref.get("output_text").asText());
        }
        Map<String, String> prompts = new HashMap<>();
        for (String l : Files.readAllLines(Path.of("../samples/stories-requests.jsonl"))) {
            JsonNode req = JSON.readTree(l);
            prompts.put(req.get("custom_id").asText(), req.at("/body/prompt").asText());
        }
        int checked = 0;
        for (String l : Files.readAllLines(output)) {
            JsonNode n = JSON.readTree(l);
            String prompt = prompts.get(n.get("custom_id").asText());
            assertEquals(expected.get(prompt), n.at("/response/body/choices/0/text").asText(), prompt);
            assertEquals(64, n.at("/response/body/usage/completion_tokens").asInt());
            checked++;
        }
        assertEquals(expected.size(), checked);
    }

    @Test
    void anUnknownEngineOptionStopsRunBatchAtStartNamingIt() throws Exception {
        Path output = dir.resolve("never.jsonl");
        StringWriter err = new StringWriter();
        int code = run(new StringWriter(), err, "run-batch", "--input", "../samples/requests.jsonl", "--output",
                output.toString(), "--data-dir", dir.resolve("data").toString(), "--engine-option", "kv_cache_token=4096");
        assertEquals(ExitCodes.USAGE, code, err.toString());
        assertTrue(err.toString().contains("unknown backend option 'kv_cache_token' (did you mean kv_cache_tokens?)"),
                err.toString());
        assertTrue(Files.notExists(output), "nothing ran");
    }
}
