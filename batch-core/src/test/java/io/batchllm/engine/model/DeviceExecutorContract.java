package io.batchllm.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link DeviceExecutor} contract, written once for every executor (as {@code JobStoreContract} is
 * for stores): a subclass supplies {@link #newExecutor} and inherits the tests. Every check goes through
 * the contract alone (plans in, sampled tokens out), so a GPU executor runs them unchanged; batch
 * {@code batch-core}'s test jar ships this class.
 *
 * <p>What is shown: stories260K's greedy tokens equal llama.cpp's, batched, chunked and fed back on the
 * device; a sequence samples the same tokens and logprobs (bit for bit) alone or among others, in any
 * slot and blocks, in one prefill or in chunks, and after a restart from its generated tokens; seeded
 * sampling of every kind agrees with the {@link #referenceExecutor}'s (the CPU's); shared prefix blocks
 * read as computed; the {@code min_tokens} mask and the logit bias work; a token mask (structured
 * outputs) restricts every sample to its tokens, greedy and seeded alike, leaves the logprobs those of
 * the model, agrees with the reference executor, and fails only its own entry when it allows nothing;
 * the {@link SlotTable} checks
 * refuse bad plans with their messages and change nothing; the lifecycle.
 */
public abstract class DeviceExecutorContract {

    /** A vocabulary large enough that seeded sampling really draws, small enough to stay fast. */
    private static final int VOCAB = 300;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    /**
     * A new executor running {@code weights}; the contract closes it. The weights stay valid until
     * then.
     */
    protected abstract DeviceExecutor newExecutor(ModelWeights weights);

    /**
     * The executor whose seeded samples this one's must equal, token for token (logprobs within
     * 1e-4): the CPU executor, for a device that computes the CPU's logits. A device whose logits
     * differ from the CPU's (one that rounds to bf16) returns one that runs its own forward pass and
     * samples those logits with the CPU's {@link io.batchllm.engine.sampling.Sampler}, so that what is
     * compared is still the sampling. The contract closes it.
     */
    protected DeviceExecutor referenceExecutor(ModelWeights weights) {
        return new CpuExecutor(weights, 1);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private DeviceExecutor executor(ModelWeights weights) {
        DeviceExecutor ex = newExecutor(weights);
        toClose.add(ex);
        return ex;
    }

    private static SyntheticModel synthetic() {
        return SyntheticModel.llama().vocab(VOCAB).key("context_length", 256L).build();
    }

    private static SamplingParams.Builder greedy() {
        return SamplingParams.builder().temperature(0);
    }

    // --- fidelity

    @Test
    void storiesGreedyTokensMatchLlamaCppWithStaggeredChunkedPrefillsAndFedBackDecodes() throws IOException {
        GgufFile file = GgufFile.open(SharedData.file("models/stories260K.gguf"));
        toClose.add(file);
        DeviceExecutor ex = executor(ModelWeights.fromGguf(file));
        // blocks of 5 positions put chunk and block boundaries out of step
        KvLayout layout = new KvLayout(5, 128);
        ex.allocateKvCache(layout, 4);
        ObjectMapper json = new ObjectMapper();
        List<Generation> gens = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        BlockSource blocks = new BlockSource(layout, false);
        for (String line : Files.readAllLines(SharedData.file("reference/stories260K-greedy.jsonl"))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = json.readTree(line);
            int[] output = ints(n.get("output_tokens"));
            expected.add(output);
            gens.add(new Generation(gens.size(), ints(n.get("prompt_tokens")), greedy().build(), 0, output.length,
                    blocks));
        }
        assertEquals(4, gens.size(), "the reference file has four prompts");
        // sequence i joins at step i; prompts go in chunks of 3 beside the others' decodes
        run(ex, gens, 3, i -> i);
        for (int i = 0; i < gens.size(); i++) {
            assertArrayEquals(expected.get(i), gens.get(i).tokens(), "prompt " + i);
        }
    }

    // --- batch invariance

    private static List<SamplingParams> varied() {
        return List.of(
                SamplingParams.builder().temperature(0.9).seed(7L).logprobs(true).topLogprobs(3).build(),
                SamplingParams.builder().temperature(1.3).topP(0.9).topK(40).seed(11L).build(),
                SamplingParams.builder().temperature(0.7).minP(0.05).frequencyPenalty(0.4).presencePenalty(0.3)
                        .seed(13L).logprobs(true).build(),
                SamplingParams.builder().temperature(1.0).repetitionPenalty(1.3).seed(17L).n(3).build(),
                greedy().logitBias(Map.of(5, 2.5f)).logprobs(true).topLogprobs(5).build(),
                SamplingParams.builder().temperature(0.8).topK(1).seed(19L).build());
    }

    private static int[] prompt(int i, int length) {
        int[] p = new int[length];
        for (int t = 0; t < length; t++) {
            p[t] = (t * 37 + i * 101 + 3) % VOCAB;
        }
        return p;
    }

    @Test
    void aSequenceSamplesTheSameTokensAndLogprobsAloneAndAmongOthersInAnySlotBlocksAndChunks() {
        DeviceExecutor ex = executor(synthetic().weights());
        KvLayout layout = new KvLayout(4, 256);
        ex.allocateKvCache(layout, 8);
        List<SamplingParams> params = varied();
        List<Generation> alone = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Generation g = new Generation(0, prompt(i, 9 + 4 * i), params.get(i), lastChoice(params.get(i)), 24,
                    new BlockSource(layout, false));
            run(ex, List.of(g), Integer.MAX_VALUE, j -> 0);
            alone.add(g);
        }
        // all together, in other slots, in blocks handed out from the top down, prompts in chunks of 5
        BlockSource scattered = new BlockSource(layout, true);
        List<Generation> together = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            together.add(new Generation(7 - i, prompt(i, 9 + 4 * i), params.get(i), lastChoice(params.get(i)), 24,
                    scattered));
        }
        run(ex, together, 5, j -> j % 3);
        for (int i = 0; i < params.size(); i++) {
            Generation a = alone.get(i);
            Generation b = together.get(i);
            assertArrayEquals(a.tokens(), b.tokens(), "tokens of sequence " + i);
            assertArrayEquals(a.logprobs(), b.logprobs(), "logprobs of sequence " + i);
            assertEquals(a.tops, b.tops, "top logprobs of sequence " + i);
        }
        long distinct = alone.stream().map(g -> Arrays.toString(g.tokens())).distinct().count();
        assertEquals(params.size(), distinct, "the settings really differ in what they sample");
    }

    /** The highest choice index of a request: its random stream differs from choice 0's. */
    private static int lastChoice(SamplingParams params) {
        return params.n() - 1;
    }

    @Test
    void aSequenceRestartedFromItsGeneratedTokensContinuesAsIfNeverInterrupted() {
        DeviceExecutor ex = executor(synthetic().weights());
        KvLayout layout = new KvLayout(4, 256);
        ex.allocateKvCache(layout, 4);
        SamplingParams params = SamplingParams.builder().temperature(1.1).topP(0.95).frequencyPenalty(0.5)
                .presencePenalty(0.2).repetitionPenalty(1.2).seed(99L).n(2).logprobs(true).topLogprobs(2).build();
        int[] prompt = prompt(3, 11);
        Generation whole = new Generation(0, prompt, params, 1, 20, new BlockSource(layout, false));
        run(ex, List.of(whole), Integer.MAX_VALUE, j -> 0);

        Generation first = new Generation(1, prompt, params, 1, 8, new BlockSource(layout, false));
        run(ex, List.of(first), 4, j -> 0);
        // restarted in another slot: prompt + its 8 tokens recomputed, then 12 more
        Generation rest = Generation.resume(2, first, 12, new BlockSource(layout, true));
        run(ex, List.of(rest), 6, j -> 0);

        int[] joined = new int[20];
        System.arraycopy(first.tokens(), 0, joined, 0, 8);
        System.arraycopy(rest.tokens(), 0, joined, 8, 12);
        assertArrayEquals(whole.tokens(), joined);
        assertArrayEquals(Arrays.copyOfRange(whole.logprobs(), 8, 20), rest.logprobs());
    }

    @Test
    void seededSamplingOfEveryKindAgreesWithTheCpuExecutor() {
        SyntheticModel model = synthetic();
        DeviceExecutor ex = executor(model.weights());
        DeviceExecutor cpu = referenceExecutor(model.weights());
        toClose.add(cpu);
        List<SamplingParams> params = varied();
        int[][] tokens = new int[2][];
        float[][] logprobs = new float[2][];
        for (int i = 0; i < params.size(); i++) {
            int side = 0;
            for (DeviceExecutor e : List.of(ex, cpu)) {
                KvLayout layout = new KvLayout(16, 64);
                e.allocateKvCache(layout, 2);
                Generation g = new Generation(1, prompt(i, 20), params.get(i), 0, 16, new BlockSource(layout, false));
                run(e, List.of(g), Integer.MAX_VALUE, j -> 0);
                tokens[side] = g.tokens();
                logprobs[side++] = g.logprobs();
            }
            assertArrayEquals(tokens[1], tokens[0], "tokens of settings " + i);
            assertArrayEquals(logprobs[1], logprobs[0], 1e-4f, "logprobs of settings " + i);
        }
    }

    @Test
    void aSequenceReadsSharedPrefixBlocksAnotherSequenceComputed() {
        DeviceExecutor ex = executor(synthetic().weights());
        ex.allocateKvCache(new KvLayout(4, 16), 2);
        int[] prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5};
        SamplingParams params = greedy().logprobs(true).topLogprobs(2).build();
        StepPlan plan = new StepPlan();
        plan.start(start(0, params, new int[] {0, 1, 2}, 0, prompt));
        plan.chunk(0, 0, prompt, 0, prompt.length, true);
        StepResult alone = ex.submit(plan).await();
        // the second sequence shares blocks 0 and 1 (positions 0..7) and computes only the last token
        plan.clear();
        plan.start(start(1, params, new int[] {0, 1, 5}, 8, prompt));
        plan.chunk(1, 8, prompt, 8, 9, true);
        StepResult shared = ex.submit(plan).await();
        assertEquals(alone.token(0), shared.token(0));
        assertEquals(alone.logprob(0), shared.logprob(0));
        assertEquals(alone.topToken(0, 1), shared.topToken(0, 1));
    }

    // --- sampling semantics

    @Test
    void minTokensMasksTheEndTokensUntilThatManyTokensWereGenerated() {
        DeviceExecutor ex = executor(synthetic().weights());
        KvLayout layout = new KvLayout(8, 16);
        ex.allocateKvCache(layout, 1);
        // a bias of 100 makes token 42 the greedy choice every time, unless it is masked
        SamplingParams params = greedy().logitBias(Map.of(42, 100f)).minTokens(3).build();
        Generation g = new Generation(0, prompt(1, 6), params, 0, 5, new BlockSource(layout, false));
        g.endTokens = new int[] {42, 7};
        run(ex, List.of(g), Integer.MAX_VALUE, j -> 0);
        int[] tokens = g.tokens();
        for (int i = 0; i < 3; i++) {
            assertNotEquals(42, tokens[i], "token " + i + " is before min_tokens");
            assertNotEquals(7, tokens[i], "token " + i + " is before min_tokens");
        }
        assertEquals(42, tokens[3]);
        assertEquals(42, tokens[4]);
    }

    @Test
    void topLogprobsAreTheMostLikelyTokensBestFirstAndGreedyPicksTheFirst() {
        DeviceExecutor ex = executor(synthetic().weights());
        KvLayout layout = new KvLayout(8, 16);
        ex.allocateKvCache(layout, 1);
        Generation g = new Generation(0, prompt(2, 7), greedy().logprobs(true).topLogprobs(4).build(), 0, 6,
                new BlockSource(layout, false));
        run(ex, List.of(g), Integer.MAX_VALUE, j -> 0);
        for (int i = 0; i < 6; i++) {
            List<Float> top = g.tops.get(i);
            assertEquals(8, top.size(), "4 alternatives, each a token and a logprob");
            assertEquals((float) g.tokens()[i], top.get(0), "greedy picks the most likely token");
            assertEquals(g.logprobs()[i], top.get(1));
            assertTrue(top.get(1) <= 0 && top.get(1) >= top.get(3) && top.get(3) >= top.get(5)
                    && top.get(5) >= top.get(7), "logprobs, best first: " + top);
        }
    }

    // --- token masks (structured outputs)

    /** A mask allowing the tokens for which {@code allowed} is true. */
    private static long[] mask(int vocab, java.util.function.IntPredicate allowed) {
        long[] words = new long[(vocab + 63) / 64];
        for (int t = 0; t < vocab; t++) {
            if (allowed.test(t)) {
                words[t / 64] |= 1L << (t % 64);
            }
        }
        return words;
    }

    @Test
    void aMaskedGreedySamplePicksTheBestAllowedTokenAndReportsTheModelsLogprobs() {
        DeviceExecutor ex = executor(synthetic().weights());
        KvLayout layout = new KvLayout(8, 16);
        ex.allocateKvCache(layout, 1);
        SamplingParams params = greedy().logprobs(true).topLogprobs(3).build();
        Generation free = new Generation(0, prompt(4, 9), params, 0, 1, new BlockSource(layout, false));
        run(ex, List.of(free), Integer.MAX_VALUE, j -> 0);
        List<Float> top = free.tops.getFirst();
        int best = Math.round(top.get(0));
        int second = Math.round(top.get(2));

        Generation masked = new Generation(0, prompt(4, 9), params, 0, 1, new BlockSource(layout, false));
        masked.masks = i -> mask(VOCAB, t -> t != best);
        run(ex, List.of(masked), Integer.MAX_VALUE, j -> 0);
        assertEquals(second, masked.tokens()[0], "the best token the mask allows");
        assertEquals(top.get(3), masked.logprobs()[0], "its logprob is the model's, taken before the mask");
        assertEquals(top, masked.tops.getFirst(), "so are the top logprobs");
    }

    @Test
    void everySampleOfAMaskedSequenceIsAnAllowedTokenAndAgreesWithTheCpuExecutor() {
        SyntheticModel model = synthetic();
        DeviceExecutor ex = executor(model.weights());
        DeviceExecutor cpu = referenceExecutor(model.weights());
        toClose.add(cpu);
        // a different third of the vocabulary at each sample, and once a single token
        java.util.function.IntFunction<long[]> masks = i -> i == 5 ? mask(VOCAB, t -> t == 77)
                : mask(VOCAB, t -> (t * 7 + i * 13) % 3 == 0);
        List<SamplingParams> params = List.of(greedy().build(),
                SamplingParams.builder().temperature(1.2).seed(3L).logprobs(true).build(),
                SamplingParams.builder().temperature(0.9).topK(20).topP(0.8).seed(4L).build(),
                SamplingParams.builder().temperature(1.0).minP(0.02).frequencyPenalty(0.5).seed(6L).build());
        for (int p = 0; p < params.size(); p++) {
            int[][] tokens = new int[2][];
            float[][] logprobs = new float[2][];
            int side = 0;
            for (DeviceExecutor e : List.of(ex, cpu)) {
                KvLayout layout = new KvLayout(4, 64);
                e.allocateKvCache(layout, 3);
                Generation g = new Generation(2, prompt(p, 10), params.get(p), 0, 12, new BlockSource(layout, false));
                g.masks = masks;
                Generation other = new Generation(0, prompt(p + 1, 7), params.get(p), 0, 12,
                        new BlockSource(layout, true));
                run(e, List.of(other, g), 4, j -> j);
                tokens[side] = g.tokens();
                logprobs[side++] = g.logprobs();
            }
            for (int i = 0; i < tokens[0].length; i++) {
                int t = tokens[0][i];
                assertTrue((masks.apply(i)[t / 64] >>> (t % 64) & 1) == 1, "settings " + p + ": sample " + i
                        + " is token " + t + ", which its mask leaves out");
            }
            assertArrayEquals(tokens[1], tokens[0], "tokens of settings " + p);
            assertArrayEquals(logprobs[1], logprobs[0], 1e-4f, "logprobs of settings " + p);
        }
    }

    @Test
    void aMaskThatAllowsNothingFailsItsOwnSampleOnly() {
        DeviceExecutor ex = executor(synthetic().weights());
        ex.allocateKvCache(new KvLayout(8, 8), 2);
        StepPlan plan = new StepPlan();
        plan.start(start(0, greedy().build(), new int[] {0}, 0, new int[0]));
        plan.chunk(0, 0, prompt(1, 5), 0, 5, true);
        plan.mask(new long[(VOCAB + 63) / 64]);
        plan.start(start(1, greedy().build(), new int[] {1}, 0, new int[0]));
        plan.chunk(1, 0, prompt(2, 5), 0, 5, true);
        plan.mask(mask(VOCAB, t -> t == 9));
        StepResult result = ex.submit(plan).await();
        assertNotNull(result.failure(0), "nothing could be sampled");
        assertNull(result.failure(1));
        assertEquals(9, result.token(1));
    }

    // --- the checks every executor shares

    @Test
    void invalidPlansAreRefusedNamingTheSlotAndChangeNothing() {
        DeviceExecutor ex = executor(SyntheticModel.llama().vocab(80).build().weights());
        ex.allocateKvCache(new KvLayout(4, 8), 2);
        SamplingParams params = greedy().build();
        StepPlan plan = new StepPlan();
        plan.start(start(0, params, new int[] {0, 1}, 0, new int[0]));
        plan.chunk(0, 0, new int[] {1, 2, 3, 4, 5}, 0, 4, false);
        ex.submit(plan).await();

        assertRefused(ex, "slot 0: started while it holds a sequence; release the slot first",
                p -> p.start(start(0, params, new int[] {2}, 0, new int[0])));
        assertRefused(ex, "a start names slot 2, outside the executor's slots 0..1",
                p -> p.start(start(2, params, new int[] {2}, 0, new int[0])));
        assertRefused(ex, "slot 1: runs in this step but holds no sequence; start one first",
                p -> p.chunk(1, 0, new int[] {1}, 0, 1, true));
        assertRefused(ex, "slot 0: its entry starts at position 2 but the slot holds 4 positions, so it must start at 4",
                p -> p.chunk(0, 2, new int[] {1}, 0, 1, true));
        assertRefused(ex, "slot 0: token 1 has id 80, outside the vocabulary 0..79",
                p -> p.chunk(0, 4, new int[] {3, 80}, 0, 2, true));
        assertRefused(ex, "slot 0: feeds back its last sample, but its previous entry did not sample",
                p -> p.feedback(0, 4));
        assertRefused(ex, "slot 0: positions 0..9 need 3 blocks of 4 but its block table has 2",
                p -> p.chunk(0, 4, new int[] {1, 2, 3, 4, 5}, 0, 5, true));
        assertRefused(ex, "slot 0: appended block 0 is 8, outside the cache's blocks 0..7", p -> {
            p.chunk(0, 4, new int[] {1, 2, 3, 4, 5}, 0, 5, true);
            p.addBlock(8);
        });
        assertRefused(ex, "slot 1: it writes block 1, which slot 0 also holds; only a block no other slot holds may"
                + " be written", p -> {
                    p.start(start(1, params, new int[] {0, 1}, 4, new int[0]));
                    p.chunk(1, 4, new int[] {7}, 0, 1, true);
                });
        assertRefused(ex, "slot 0: runs twice in one step", p -> {
            p.chunk(0, 4, new int[] {1}, 0, 1, false);
            p.chunk(0, 5, new int[] {1}, 0, 1, false);
        });
        assertRefused(ex, "slot 1: a logit bias token has id 80, outside the vocabulary 0..79",
                p -> p.start(start(1, greedy().logitBias(Map.of(80, 1f)).build(), new int[] {2}, 0, new int[0])));
        assertRefused(ex, "slot 0: its token mask has 1 words, but the vocabulary of 80 tokens needs 2", p -> {
            p.chunk(0, 4, new int[] {1}, 0, 1, true);
            p.mask(new long[] {-1L});
        });
        assertRefused(ex, "slot 0: its token mask allows token 83, outside the vocabulary 0..79", p -> {
            p.chunk(0, 4, new int[] {1}, 0, 1, true);
            p.mask(new long[] {-1L, 1L << 19});
        });

        // none of that changed anything: slot 0 continues at position 4, and slot 1 is free
        plan.clear();
        plan.chunk(0, 4, new int[] {5}, 0, 1, true);
        plan.start(start(1, params, new int[] {2}, 0, new int[0]));
        plan.chunk(1, 0, new int[] {9, 9}, 0, 2, true);
        StepResult result = ex.submit(plan).await();
        assertTrue(result.sampled(0) && result.sampled(1));
    }

    @Test
    void aSequenceRunningPastTheContextIsRefused() {
        DeviceExecutor ex = executor(SyntheticModel.llama().vocab(80).build().weights());
        assertEquals(64, ex.config().contextLength());
        ex.allocateKvCache(new KvLayout(16, 8), 1);
        assertRefused(ex, "slot 0: positions up to 65 run past the context length 64", p -> {
            p.start(start(0, greedy().build(), new int[] {0, 1, 2, 3}, 0, new int[0]));
            p.chunk(0, 0, new int[65], 0, 65, true);
        });
    }

    @Test
    void releasingAFreeSlotDoesNothingAndAReleasedSlotTakesANewSequenceInTheSameStep() {
        DeviceExecutor ex = executor(synthetic().weights());
        ex.allocateKvCache(new KvLayout(4, 8), 2);
        SamplingParams params = greedy().build();
        StepPlan plan = new StepPlan();
        plan.release(1);
        plan.start(start(0, params, new int[] {0, 1}, 0, new int[0]));
        plan.chunk(0, 0, prompt(0, 6), 0, 6, true);
        int first = ex.submit(plan).await().token(0);

        plan.clear();
        plan.release(0);
        plan.start(start(0, params, new int[] {0, 1}, 0, new int[0]));
        plan.chunk(0, 0, prompt(0, 6), 0, 6, true);
        assertEquals(first, ex.submit(plan).await().token(0), "the same prompt in the same blocks, computed again");
    }

    // --- lifecycle

    @Test
    void aStepBeforeTheCacheIsAllocatedIsRefusedAndTheLayoutIsReported() {
        DeviceExecutor ex = executor(synthetic().weights());
        assertNull(ex.kvLayout());
        assertEquals(0, ex.slots());
        StepPlan plan = new StepPlan();
        plan.start(start(0, greedy().build(), new int[] {0}, 0, new int[0]));
        plan.chunk(0, 0, new int[] {1}, 0, 1, true);
        assertThrows(IllegalStateException.class, () -> ex.submit(plan));
        ex.allocateKvCache(new KvLayout(16, 2), 3);
        assertEquals(new KvLayout(16, 2), ex.kvLayout());
        assertEquals(3, ex.slots());
        StepHandle handle = ex.submit(plan);
        StepResult result = handle.await();
        assertTrue(handle.isDone());
        assertSame(result, handle.await(), "await returns the same result again");
    }

    @Test
    void aClosedExecutorRefusesWork() {
        DeviceExecutor ex = newExecutor(synthetic().weights());
        ex.allocateKvCache(new KvLayout(4, 1), 1);
        ex.close();
        ex.close();
        StepPlan plan = new StepPlan();
        plan.start(start(0, greedy().build(), new int[] {0}, 0, new int[0]));
        plan.chunk(0, 0, new int[] {1}, 0, 1, true);
        assertThrows(IllegalStateException.class, () -> ex.submit(plan));
        assertThrows(IllegalStateException.class, () -> ex.allocateKvCache(new KvLayout(4, 1), 1));
    }

    @Test
    void theDeviceSuggestsLimitsAndSizesItsCache() {
        DeviceExecutor ex = executor(synthetic().weights());
        DeviceDefaults d = ex.defaults();
        assertTrue(d.maxSequences() >= 1 && d.maxStepTokens() >= d.maxSequences(), d.toString());
        assertTrue(d.kvCacheBytes() > 0, d.toString());
        assertTrue(ex.kvBytesPerToken() > 0);
    }

    // --- helpers

    private static SequenceStart start(int slot, SamplingParams params, int[] blocks, int cached, int[] prompt) {
        return new SequenceStart(slot, params, 1L, 0, blocks, cached, prompt, new int[0], new int[0]);
    }

    private static void assertRefused(DeviceExecutor ex, String message, java.util.function.Consumer<StepPlan> fill) {
        StepPlan plan = new StepPlan();
        fill.accept(plan);
        var e = assertThrows(IllegalArgumentException.class, () -> ex.submit(plan));
        assertEquals(message, e.getMessage());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /**
     * Drives {@code gens} to their ends in shared steps, as a scheduler would: generation {@code i}
     * joins at step {@code joinAt.apply(i)} and sends its prompt in chunks of at most {@code chunk}
     * tokens; once in, each step feeds back its last sample. Blocks are taken as positions need them.
     */
    private static void run(DeviceExecutor ex, List<Generation> gens, int chunk, IntFunction<Integer> joinAt) {
        StepPlan plan = new StepPlan();
        for (int step = 0; !gens.stream().allMatch(Generation::done); step++) {
            plan.clear();
            List<Generation> members = new ArrayList<>();
            for (int i = 0; i < gens.size(); i++) {
                Generation g = gens.get(i);
                if (step >= joinAt.apply(i) && !g.done()) {
                    g.plan(plan, chunk);
                    members.add(g);
                }
            }
            StepResult result = ex.submit(plan).await();
            for (int e = 0; e < members.size(); e++) {
                members.get(e).accept(result, e);
            }
        }
        plan.clear();
        for (Generation g : gens) {
            plan.release(g.slot);
        }
        ex.submit(plan).await();
    }

    /** Hands out blocks of {@code blockSize} positions: 0, 1, 2, … or, scattered, from the last one down. */
    private static final class BlockSource {
        private final int count;
        private final int blockSize;
        private final boolean fromTop;
        private int next;

        BlockSource(KvLayout layout, boolean fromTop) {
            this.count = layout.blockCount();
            this.blockSize = layout.blockSize();
            this.fromTop = fromTop;
        }

        int take() {
            int b = next++;
            return fromTop ? count - 1 - b : b;
        }
    }

    /** One sequence driven by {@link #run}: its prompt (or recomputed text), blocks, and what it sampled. */
    private static final class Generation {
        final int slot;
        final int[] prompt;
        final SamplingParams params;
        final int choice;
        final int wanted;
        final BlockSource source;
        final int[] compute;
        final int[] history;
        int[] endTokens = new int[0];
        /** The token mask of each sample (by its index among this generation's samples), or null for none. */
        IntFunction<long[]> masks;
        final List<Integer> blocks = new ArrayList<>();
        final List<Integer> sampled = new ArrayList<>();
        final List<Float> logprobList = new ArrayList<>();
        /** Per sample: alternating top tokens and logprobs. */
        final List<List<Float>> tops = new ArrayList<>();
        boolean started;
        int sent;
        boolean expectSample;

        Generation(int slot, int[] prompt, SamplingParams params, int choice, int wanted, BlockSource source) {
            this(slot, prompt, params, choice, wanted, source, prompt, new int[0]);
        }

        private Generation(int slot, int[] prompt, SamplingParams params, int choice, int wanted, BlockSource source,
                int[] compute, int[] history) {
            this.slot = slot;
            this.prompt = prompt;
            this.params = params;
            this.choice = choice;
            this.wanted = wanted;
            this.source = source;
            this.compute = compute;
            this.history = history;
        }

        /** {@code first} restarted in {@code slot}: its prompt and tokens recomputed, then {@code wanted} more. */
        static Generation resume(int slot, Generation first, int wanted, BlockSource source) {
            int[] history = first.tokens();
            int[] compute = Arrays.copyOf(first.prompt, first.prompt.length + history.length);
            System.arraycopy(history, 0, compute, first.prompt.length, history.length);
            return new Generation(slot, first.prompt, first.params, first.choice, wanted, source, compute, history);
        }

        boolean done() {
            return sampled.size() == wanted;
        }

        void plan(StepPlan plan, int chunk) {
            int end;
            if (sent < compute.length) {
                end = Math.min(compute.length, sent + chunk);
                if (!started) {
                    started = true;
                    growTo(end);
                    plan.start(new SequenceStart(slot, params, 5L, choice, toArray(blocks), 0, prompt, history,
                            endTokens));
                    expectSample = end == compute.length;
                    plan.chunk(slot, 0, compute, 0, end, expectSample);
                } else {
                    int before = blocks.size();
                    growTo(end);
                    expectSample = end == compute.length;
                    plan.chunk(slot, sent, compute, sent, end, expectSample);
                    addBlocks(plan, before);
                }
            } else {
                end = sent + 1;
                int before = blocks.size();
                growTo(end);
                expectSample = true;
                plan.feedback(slot, sent);
                addBlocks(plan, before);
            }
            sent = end;
            if (expectSample && masks != null) {
                plan.mask(masks.apply(sampled.size()));
            }
        }

        private void growTo(int positions) {
            while (blocks.size() * source.blockSize < positions) {
                blocks.add(source.take());
            }
        }

        private void addBlocks(StepPlan plan, int from) {
            for (int b = from; b < blocks.size(); b++) {
                plan.addBlock(blocks.get(b));
            }
        }

        void accept(StepResult result, int e) {
            assertEquals(expectSample, result.sampled(e), "entry " + e + " sampled");
            if (!expectSample) {
                return;
            }
            assertNull(result.failure(e));
            sampled.add(result.token(e));
            logprobList.add(result.logprob(e));
            List<Float> top = new ArrayList<>();
            for (int i = 0; i < result.topCount(e); i++) {
                top.add((float) result.topToken(e, i));
                top.add(result.topLogprob(e, i));
            }
            tops.add(top);
        }

        int[] tokens() {
            return sampled.stream().mapToInt(Integer::intValue).toArray();
        }

        float[] logprobs() {
            float[] out = new float[logprobList.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = logprobList.get(i);
            }
            return out;
        }

        private static int[] toArray(List<Integer> list) {
            return list.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
