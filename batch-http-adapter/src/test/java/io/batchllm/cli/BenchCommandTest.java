package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.spi.Availability;
import io.batchllm.spi.InferenceBackendProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code batchllm bench} on a tiny synthetic model: output shapes and argument errors, no timings. */
class BenchCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void writeTinyModel() {
        model = dir.resolve("tiny.gguf");
        SyntheticModel.builder().build().write(model);
    }

    private int bench(String... args) {
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        return cl.execute(all);
    }

    @Test
    void jsonIsOneArrayWithAnObjectPerParallelCountInTheOrderGiven() throws Exception {
        int code = bench("--model", model.toString(), "--parallel", "3,1", "--prompt-tokens", "5", "--gen-tokens",
                "2", "--threads", "1", "--json");

        assertEquals(ExitCodes.COMPLETED, code, err.toString());
        JsonNode array = new ObjectMapper().readTree(out.toString());
        assertTrue(array.isArray(), out.toString());
        assertEquals(2, array.size());
        int[] expected = {3, 1};
        for (int i = 0; i < 2; i++) {
            JsonNode o = array.get(i);
            assertEquals(expected[i], o.get("parallel").asInt());
            assertEquals(5, o.get("prompt_tokens").asInt());
            assertEquals(2, o.get("gen_tokens").asInt());
            for (String key : new String[] {"prompt_tokens_per_second", "decode_tokens_per_second"}) {
                double v = o.get(key).asDouble();
                assertTrue(o.get(key).isNumber() && v > 0 && Double.isFinite(v), key + " = " + o.get(key));
            }
            // The rates are the token counts over the reported times.
            assertEquals(expected[i] * 2 / o.get("decode_seconds").asDouble(),
                    o.get("decode_tokens_per_second").asDouble(), 1e-6 * o.get("decode_tokens_per_second").asDouble());
        }
    }

    @Test
    void withoutJsonItPrintsATableRowPerParallelCount() {
        int code = bench("--model", model.toString(), "--parallel", "1,2", "--prompt-tokens", "3", "--gen-tokens",
                "2", "--threads", "1");

        assertEquals(ExitCodes.COMPLETED, code, err.toString());
        String[] lines = out.toString().strip().split("\\R");
        assertEquals(4, lines.length, out.toString());
        assertTrue(lines[0].contains("S_TG t/s"), lines[0]);
        assertTrue(lines[2].matches("\\|\\s+3 \\|\\s+2 \\|\\s+1 \\|.*"), lines[2]);
        assertTrue(lines[3].matches("\\|\\s+3 \\|\\s+2 \\|\\s+2 \\|.*"), lines[3]);
    }

    @Test
    void withAJsonSchemaEachParallelCountIsMeasuredFreeAndConstrained() throws Exception {
        Path schema = dir.resolve("schema.json");
        Files.writeString(schema, "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\","
                + " \"maxLength\": 3}, \"b\": {\"type\": \"integer\"}}, \"required\": [\"a\", \"b\"]}");
        int code = bench("--model", model.toString(), "--parallel", "2,1", "--prompt-tokens", "4", "--gen-tokens",
                "40", "--threads", "1", "--json", "--json-schema", schema.toString());

        assertEquals(ExitCodes.COMPLETED, code, err.toString());
        JsonNode array = new ObjectMapper().readTree(out.toString());
        assertEquals(4, array.size(), out.toString());
        int[] parallel = {2, 2, 1, 1};
        for (int i = 0; i < 4; i++) {
            assertEquals(parallel[i], array.get(i).get("parallel").asInt());
            assertEquals(i % 2 == 1 ? schema.toString() : null, array.get(i).get("json_schema").textValue());
            assertTrue(array.get(i).get("decode_tokens_per_second").asDouble() > 0);
        }
    }

    @Test
    void aSchemaTheGrammarCannotEnforceIsAUsageErrorNamingTheKeyword() throws Exception {
        Path schema = dir.resolve("unique.json");
        Files.writeString(schema, "{\"type\": \"array\", \"uniqueItems\": true}");
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--json-schema", schema.toString()));
        assertTrue(err.toString().contains("'uniqueItems'"), err.toString());
    }

    @Test
    void aVocabularySizeIsForSyntheticModelsOnly() {
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--vocab-size", "1000"));
        assertTrue(err.toString().contains("--vocab-size applies to synthetic models only"), err.toString());
        assertEquals(ExitCodes.USAGE, bench("--model", "synthetic:15M-f32", "--vocab-size", "12"));
        assertTrue(err.toString().contains("--vocab-size must be at least 260"), err.toString());
    }

    @Test
    void aParallelCountBelowOneIsAUsageErrorNamingTheOption() {
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--parallel", "1,0"));
        assertTrue(err.toString().contains("--parallel"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void aNonNumericParallelCountIsAUsageError() {
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--parallel", "1,x"));
        assertTrue(err.toString().contains("--parallel"), err.toString());
    }

    @Test
    void promptAndGenerationLongerThanTheContextAreRefused() {
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--prompt-tokens", "2048", "--gen-tokens",
                "1"));
        assertTrue(err.toString().contains("context length 2048"), err.toString());
    }

    @Test
    void aMissingModelFileIsAUsageErrorNamingIt() {
        Path missing = dir.resolve("nope.gguf");
        assertEquals(ExitCodes.USAGE, bench("--model", missing.toString()));
        assertTrue(err.toString().contains(missing.toString()), err.toString());
    }

    @Test
    void anUnknownSyntheticModelListsTheKnownOnesAndWritesNothing() throws Exception {
        Path cache = dir.resolve("cache");
        assertEquals(ExitCodes.USAGE, bench("--model", "synthetic:7B-f32", "--cache-dir", cache.toString()));
        assertTrue(err.toString().contains("110M-q8_0"), err.toString());
        assertTrue(err.toString().contains("synthetic:1B-bf16"), "the GPU benchmark's shape is listed: " + err);
        assertTrue(!Files.exists(cache), "nothing is written for an unknown name");
    }

    @Test
    void aBackendThatIsNotAvailableIsAUsageErrorWithItsReason() {
        Availability cuda = ServiceLoader.load(InferenceBackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cuda")).findFirst().orElseThrow().availability();
        assumeFalse(cuda.available(), "this machine has a usable GPU: bench --backend cuda would run");
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--backend", "cuda"));
        assertTrue(err.toString().contains("--backend cuda: backend 'cuda' is not available: " + cuda.reason()),
                err.toString());
    }

    @Test
    void anUnknownEngineOptionIsAUsageErrorNamingIt() {
        assertEquals(ExitCodes.USAGE, bench("--model", model.toString(), "--backend", "cpu", "--engine-option",
                "max_sequencs=4"));
        assertTrue(err.toString().contains("unknown backend option 'max_sequencs' (did you mean max_sequences?)"),
                err.toString());
    }

    @Test
    void aFileThatIsNotGgufIsAUsageError() throws Exception {
        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "not a model");
        assertEquals(ExitCodes.USAGE, bench("--model", junk.toString()));
        assertTrue(err.toString().contains("does not load"), err.toString());
    }
}
