package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.cpu.ReferenceLogits;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.SyntheticModel;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What is particular to the CUDA executor, beyond the executor contract: its logits against the CPU
 * executor's within the bf16 tolerance, greedy tokens against the CPU's, steps split into passes,
 * CUDA graphs, logit-bias lists that outgrow their room, its suggested limits and cache sizing.
 * Subclasses give the device: the CPU emulator in every build, the real GPU in the {@code gpu} run.
 */
abstract class CudaExecutorChecks {
    /**
     * The largest difference allowed between a logit of the CUDA executor and the CPU executor's. The
     * weights, the GEMM inputs (normed activations, attention outputs, SwiGLU outputs) and the KV cache
     * are bf16 (8 significant bits: relative rounding up to 2^-9), so each logit carries the rounding
     * of every layer's inputs. The emulator measures at most 0.11 on stories260K's reference prompts
     * and 0.04 on the synthetic models (the test prints each); 0.25 leaves room for a GPU's own
     * summation order and math library.
     */
    static final float LOGIT_TOLERANCE = 0.25f;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    abstract Gpu openGpu();

    CudaExecutor executor(ModelWeights weights, CudaExecutor.Options options) {
        CudaExecutor ex = new CudaExecutor(openGpu(), weights, options);
        toClose.add(ex);
        return ex;
    }

    CudaExecutor executor(ModelWeights weights) {
        return executor(weights, CudaExecutor.Options.DEFAULTS);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ModelWeights stories() {
        GgufFile file = GgufFile.open(SharedData.file("models/stories260K.gguf"));
        toClose.add(file);
        return ModelWeights.fromGguf(file);
    }

    private static List<int[]> storiesPrompts() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<int[]> prompts = new ArrayList<>();
        for (String line : Files.readAllLines(SharedData.file("reference/stories260K-greedy.jsonl"))) {
            if (!line.isBlank()) {
                JsonNode tokens = json.readTree(line).get("prompt_tokens");
                prompts.add(IntStream.range(0, tokens.size()).map(i -> tokens.get(i).asInt()).toArray());
            }
        }
        return prompts;
    }

    /** The CPU's logits of {@code prompt}'s last token (the reference path). */
    private static float[] cpuLogits(ModelWeights weights, int[] prompt) {
        try (CpuExecutor cpu = new CpuExecutor(weights, 1)) {
            KvLayout layout = new KvLayout(16, KvLayout.blocksFor(prompt.length, 16));
            ReferenceLogits.allocate(cpu, layout);
            int[] blocks = IntStream.range(0, layout.blockCount()).toArray();
            return ReferenceLogits.step(cpu, StepInput.of(SequenceStep.prefill(blocks, prompt))).logits(0);
        }
    }

    /** The CUDA executor's logits of {@code prompt}'s last token, prefilled greedily. */
    private float[] cudaLogits(ModelWeights weights, int[] prompt) {
        CudaExecutor ex = executor(weights);
        KvLayout layout = new KvLayout(16, KvLayout.blocksFor(prompt.length, 16));
        ex.allocateKvCache(layout, 1);
        StepPlan plan = new StepPlan();
        plan.start(new SequenceStart(0, SamplingParams.builder().temperature(0).build(), 1, 0,
                IntStream.range(0, layout.blockCount()).toArray(), 0, prompt, new int[0], new int[0]));
        plan.chunk(0, 0, prompt, 0, prompt.length, true);
        ex.submit(plan).await();
        return ex.logits(0);
    }

    private void assertLogitsWithinTolerance(ModelWeights weights, int[] prompt, String what) {
        float[] cpu = cpuLogits(weights, prompt);
        float[] cuda = cudaLogits(weights, prompt);
        assertEquals(cpu.length, cuda.length);
        float worst = 0;
        for (int i = 0; i < cpu.length; i++) {
            worst = Math.max(worst, Math.abs(cpu[i] - cuda[i]));
        }
        System.out.printf("gpu-check logits %s: max |cuda - cpu| = %.5f%n", what, worst);
        assertTrue(worst <= LOGIT_TOLERANCE, what + ": max |cuda - cpu| = " + worst);
        assertTrue(worst > 0, what + ": bf16 differs somewhere, or the comparison compares nothing");
    }

    @Test
    void storiesLogitsAreTheCpuExecutorsWithinTheBf16Tolerance() throws IOException {
        ModelWeights weights = stories();
        List<int[]> prompts = storiesPrompts();
        for (int i = 0; i < prompts.size(); i++) {
            assertLogitsWithinTolerance(weights, prompts.get(i), "stories260K prompt " + i);
        }
    }

    @Test
    void syntheticModelsLogitsAreTheCpuExecutorsWithinTheBf16Tolerance() {
        int[] prompt = IntStream.range(0, 23).map(i -> (i * 37 + 5) % 300).toArray();
        Map<String, SyntheticModel> models = new HashMap<>();
        models.put("llama, GQA", SyntheticModel.llama().vocab(300).build());
        models.put("llama, Llama 3.1 rope_freqs, tied output", SyntheticModel.llama().vocab(300).ropeFreqs(true)
                .tied(true).build());
        models.put("qwen2, QKV biases, NEOX pairs", SyntheticModel.qwen2().vocab(300).build());
        models.forEach((name, m) -> assertLogitsWithinTolerance(m.weights(), prompt, name));
    }

    @Test
    void storiesGreedyTokensAreTheCpuExecutorsForTheFirst32() throws IOException {
        ModelWeights weights = stories();
        List<int[]> prompts = storiesPrompts();
        Generations.Sampled[] cuda = Generations.greedy(executor(weights), prompts, 32);
        try (CpuExecutor cpu = new CpuExecutor(weights, 1)) {
            Generations.Sampled[] reference = Generations.greedy(cpu, prompts, 32);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(reference[i].tokens(), cuda[i].tokens(), "prompt " + i);
            }
        }
    }

    private static List<SamplingParams> seeded() {
        return List.of(SamplingParams.builder().temperature(0.9).topP(0.9).seed(3L).logprobs(true).build(),
                SamplingParams.builder().temperature(1.2).frequencyPenalty(0.5).repetitionPenalty(1.2).seed(4L)
                        .logprobs(true).build(),
                SamplingParams.builder().temperature(0).logprobs(true).build());
    }

    private static List<int[]> prompts(int count, int length) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int k = i;
            out.add(IntStream.range(0, length + 3 * i).map(t -> (t * 31 + k * 7 + 1) % 300).toArray());
        }
        return out;
    }

    @Test
    void aStepLongerThanAPassRunsAsSeveralPassesWithTheSameResults() {
        SyntheticModel m = SyntheticModel.llama().vocab(300).key("context_length", 256L).build();
        List<int[]> prompts = prompts(3, 17);
        Generations.Sampled[] whole = Generations.run(executor(m.weights()), seeded(), prompts, 12, 0);
        // passes of 5 tokens: each prompt is cut across passes, and a step of 3 decodes takes one pass
        CudaExecutor small = executor(m.weights(), new CudaExecutor.Options(5, true, KvCacheSizing.DEFAULTS));
        assertArrayEquals(whole, Generations.run(small, seeded(), prompts, 12, 0));
    }

    @Test
    void decodesReplayedAsCudaGraphsPaddedToTheirSizeSampleWhatTheEagerPathSamples() {
        SyntheticModel m = SyntheticModel.llama().vocab(300).key("context_length", 256L).build();
        List<int[]> prompts = prompts(3, 9);
        CudaExecutor eager = executor(m.weights(), new CudaExecutor.Options(2048, false, KvCacheSizing.DEFAULTS));
        Generations.Sampled[] expected = Generations.run(eager, seeded(), prompts, 10, 2);
        assertEquals(List.of(), eager.capturedGraphSizes());
        CudaExecutor graphs = executor(m.weights());
        assertArrayEquals(expected, Generations.run(graphs, seeded(), prompts, 10, 2));
        // sequences join at steps 0, 2 and 4: decode passes of 1, 2 and 3 sequences (3 padded to 4)
        assertEquals(List.of(1, 2, 4), graphs.capturedGraphSizes());
    }

    @Test
    void aSequenceWithMoreLogitBiasesThanASlotHoldsMovesEveryonesListsWithoutChangingTheirTokens() {
        SyntheticModel m = SyntheticModel.llama().vocab(300).key("context_length", 256L).build();
        Map<Integer, Float> many = new HashMap<>();
        for (int t = 0; t < 3 * SlotBuffers.INITIAL_LIST_ROOM; t++) {
            many.put(t * 5, t % 2 == 0 ? 3f : -3f);
        }
        List<SamplingParams> params = List.of(
                SamplingParams.builder().temperature(1.0).logitBias(Map.of(7, 5f, 9, -5f)).minTokens(4).seed(5L)
                        .logprobs(true).build(),
                SamplingParams.builder().temperature(0.8).logitBias(many).seed(6L).logprobs(true).build());
        List<int[]> prompts = prompts(2, 11);
        Generations.Sampled[] alone = new Generations.Sampled[2];
        for (int i = 0; i < 2; i++) {
            alone[i] = Generations.run(executor(m.weights()), List.of(params.get(i)), List.of(prompts.get(i)), 8, 0)[0];
        }
        // the second joins while the first runs: its 48 biases outgrow the lists, which move
        Generations.Sampled[] together = Generations.run(executor(m.weights()), params, prompts, 8, 3);
        assertArrayEquals(alone, together);
        assertNotEquals(alone[0], alone[1]);
    }

    @Test
    void stepsSubmittedWithoutWaitingFeedBackTheDevicesSamplesAndKeepEveryResult() {
        SyntheticModel m = SyntheticModel.llama().vocab(300).key("context_length", 256L).build();
        int[] prompt = prompts(1, 13).getFirst();
        int steps = 3 * CudaExecutor.STEPS_IN_FLIGHT;
        int[] expected = Generations.greedy(executor(m.weights()), List.of(prompt), steps)[0].tokens();
        CudaExecutor ex = executor(m.weights());
        ex.allocateKvCache(new KvLayout(8, 8), 1);
        StepPlan plan = new StepPlan();
        plan.start(new SequenceStart(0, SamplingParams.builder().temperature(0).build(), 1, 0,
                IntStream.range(0, 8).toArray(), 0, prompt, new int[0], new int[0]));
        plan.chunk(0, 0, prompt, 0, prompt.length, true);
        List<StepHandle> handles = new ArrayList<>();
        handles.add(ex.submit(plan));
        for (int i = 1; i < steps; i++) {
            // the engine plans the next step before it has seen this one's token: the device feeds it back
            plan.clear();
            plan.feedback(0, prompt.length + i - 1);
            handles.add(ex.submit(plan));
        }
        int[] tokens = new int[steps];
        // awaited only now, oldest first: the ones whose staging was reused kept their results
        for (int i = 0; i < steps; i++) {
            tokens[i] = handles.get(i).await().token(0);
            assertTrue(handles.get(i).isDone());
        }
        assertArrayEquals(expected, tokens);
    }

    @Test
    void theGpuSuggestsHundredsOfSequencesALargeStepBudgetAndACacheFromFreeMemory() {
        SyntheticModel m = SyntheticModel.llama().vocab(300).build();
        CudaExecutor ex = executor(m.weights(), new CudaExecutor.Options(2048, true, new KvCacheSizing(0.5, 1L << 20)));
        var d = ex.defaults();
        assertEquals(256, d.maxSequences());
        assertEquals(2048, d.maxStepTokens());
        assertTrue(d.kvCacheBytes() > 0 && d.kvCacheBytes() <= ex.device().totalBytes() / 2, d.toString());
        var c = m.weights().config();
        assertEquals(2L * c.blockCount() * c.kvDim() * 2, ex.kvBytesPerToken(), "bf16 K and V of every layer");
    }

    @Test
    void aCacheThatDoesNotFitTheDeviceIsRefusedNamingItsSizeAndWhatToLower() {
        CudaExecutor ex = executor(SyntheticModel.llama().vocab(300).build().weights());
        long total = ex.device().totalBytes();
        int blocks = (int) Math.min(Integer.MAX_VALUE - 1, 2 * total / (ex.kvBytesPerToken() * 16));
        var e = assertThrows(IllegalArgumentException.class, () -> ex.allocateKvCache(new KvLayout(16, blocks), 4));
        assertTrue(e.getMessage().contains("the KV cache of " + blocks + " blocks of 16 positions"), e.getMessage());
        assertTrue(e.getMessage().contains("lower kv_cache_tokens or max_sequences"), e.getMessage());
        // the executor still works with a cache that fits
        ex.allocateKvCache(new KvLayout(16, 8), 2);
        assertEquals(2, ex.slots());
    }
}
