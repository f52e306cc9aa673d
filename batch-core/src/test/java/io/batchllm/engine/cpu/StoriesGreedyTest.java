package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvSequence;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * stories260K must reproduce llama.cpp's greedy completions token for token (the reference file holds
 * llama.cpp's outputs), however the sequences are batched, chunked and threaded.
 */
class StoriesGreedyTest {

    private static final Path MODEL = SharedData.file("models/stories260K.gguf");
    private static final Path REFERENCE = SharedData.file("reference/stories260K-greedy.jsonl");

    record Case(String prompt, int[] promptTokens, int[] outputTokens) {
    }

    static List<Case> cases() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        for (String line : Files.readAllLines(REFERENCE)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = json.readTree(line);
            cases.add(new Case(n.get("prompt").asText(), ints(n.get("prompt_tokens")), ints(n.get("output_tokens"))));
        }
        return cases;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** Greedy choice: the highest logit, the lowest id among equals (as llama.cpp's top-k 1 does). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Reserves {@code blocks} blocks of {@code blockSize} on {@code ex}; the pool hands them out, unshared. */
    private static KvBlockPool cache(CpuExecutor ex, int blockSize, int blocks) {
        KvLayout layout = new KvLayout(blockSize, blocks);
        ex.allocateKvCache(layout);
        return new KvBlockPool(layout, false);
    }

    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void eachPromptAloneMatchesLlamaCppAsOnePrefillThenDecodes(int threads) throws IOException {
        List<Case> cases = cases();
        assertEquals(4, cases.size(), "the reference file has four prompts");
        try (CpuExecutor ex = CpuExecutor.load(MODEL, threads)) {
            KvBlockPool pool = cache(ex, 16, 8);
            for (Case c : cases) {
                int n = c.outputTokens().length;
                int[] got = new int[n];
                // each sequence reuses the blocks the previous one gave back
                KvSequence kv = pool.allocate(c.promptTokens(), c.promptTokens().length + n);
                int[] table = kv.blockTable();
                int next = argmax(ex.step(StepInput.of(SequenceStep.prefill(table, c.promptTokens()))).logits(0));
                for (int i = 0; i < n; i++) {
                    got[i] = next;
                    if (i + 1 < n) {
                        int pos = c.promptTokens().length + i;
                        next = argmax(ex.step(StepInput.of(SequenceStep.decode(table, pos, next))).logits(0));
                    }
                }
                pool.release(kv);
                assertArrayEquals(c.outputTokens(), got, () -> "prompt '" + c.prompt() + "'");
            }
        }
    }

    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void allPromptsBatchedInTheSameStepsMatchLlamaCpp(int threads) throws IOException {
        List<Case> cases = cases();
        try (CpuExecutor ex = CpuExecutor.load(MODEL, threads)) {
            KvBlockPool pool = cache(ex, 16, 64);
            Generation[] gens = cases.stream().map(c -> new Generation(pool, c)).toArray(Generation[]::new);
            // Step 0 prefills every prompt together; every later step decodes every sequence together.
            while (!Arrays.stream(gens).allMatch(Generation::done)) {
                List<SequenceStep> batch = new ArrayList<>();
                for (Generation g : gens) {
                    batch.add(g.nextStep(Integer.MAX_VALUE));
                }
                StepOutput out = ex.step(new StepInput(batch));
                for (int i = 0; i < gens.length; i++) {
                    gens[i].accept(out, i);
                }
            }
            for (Generation g : gens) {
                assertArrayEquals(g.expected.outputTokens(), g.output(), () -> "prompt '" + g.expected.prompt() + "'");
            }
        }
    }

    /**
     * Sequence i joins at step i and prefills its prompt in chunks of 3 tokens, so most steps mix one
     * sequence's prefill chunk with other sequences' decodes, as a continuous-batching scheduler will.
     * Blocks of 5 positions put chunk and block boundaries out of step.
     */
    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void staggeredChunkedPrefillsMixedWithDecodesMatchLlamaCpp(int threads) throws IOException {
        List<Case> cases = cases();
        try (CpuExecutor ex = CpuExecutor.load(MODEL, threads)) {
            KvBlockPool pool = cache(ex, 5, 128);
            Generation[] gens = cases.stream().map(c -> new Generation(pool, c)).toArray(Generation[]::new);
            for (int step = 0; !Arrays.stream(gens).allMatch(Generation::done); step++) {
                List<SequenceStep> batch = new ArrayList<>();
                List<Generation> members = new ArrayList<>();
                for (int i = 0; i < gens.length; i++) {
                    if (i <= step && !gens[i].done()) {
                        batch.add(gens[i].nextStep(3));
                        members.add(gens[i]);
                    }
                }
                StepOutput out = ex.step(new StepInput(batch));
                for (int i = 0; i < members.size(); i++) {
                    members.get(i).accept(out, i);
                }
            }
            for (Generation g : gens) {
                assertArrayEquals(g.expected.outputTokens(), g.output(), () -> "prompt '" + g.expected.prompt() + "'");
            }
        }
    }

    /** One sequence's greedy generation, driven step by step by a test. */
    private static final class Generation {
        final int[] table;
        final Case expected;
        final int[] tokens;
        int length;        // tokens known: prompt plus generated
        int position;      // tokens already run through the model
        int generated;
        boolean expectingLogits;

        Generation(KvBlockPool pool, Case expected) {
            this.expected = expected;
            this.tokens = Arrays.copyOf(expected.promptTokens(), expected.promptTokens().length
                    + expected.outputTokens().length);
            this.table = pool.allocate(expected.promptTokens(), tokens.length).blockTable();
            this.length = expected.promptTokens().length;
        }

        boolean done() {
            return generated == expected.outputTokens().length;
        }

        SequenceStep nextStep(int maxChunk) {
            int n = Math.min(maxChunk, length - position);
            expectingLogits = position + n == length;
            SequenceStep s = new SequenceStep(table, position, Arrays.copyOfRange(tokens, position, position + n),
                    expectingLogits);
            position += n;
            return s;
        }

        void accept(StepOutput out, int index) {
            assertEquals(expectingLogits, out.hasLogits(index));
            if (expectingLogits) {
                tokens[length++] = argmax(out.logits(index));
                generated++;
            }
        }

        int[] output() {
            return Arrays.copyOfRange(tokens, expected.promptTokens().length, length);
        }
    }
}
