package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.batchllm.cuda.internal.KernelSource;
import io.batchllm.cuda.internal.SamplingSlots;
import io.batchllm.engine.sampling.SampledToken;
import io.batchllm.engine.sampling.Sampler;
import io.batchllm.engine.sampling.SamplingParams;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The sampling kernel against the CPU engine's {@link Sampler}, the oracle: each row is one sequence
 * with its own settings; for several steps both get the same fresh logits, and the kernel, drawing
 * from (seed, choice, step), must pick the CPU's token and report its logprobs.
 */
abstract class SamplingContract extends GpuTestBase {
    static final int VOCAB = 257;
    static final int THREADS = 64;

    private void assertKernelSamplesLikeTheCpu(List<SamplingParams> rows, int steps) {
        int r = rows.size();
        List<Sampler> cpu = new ArrayList<>();
        DeviceBuffer params;
        DeviceBuffer biasTokens;
        DeviceBuffer biasValues;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate((long) r * SamplingSlots.BYTES, 8);
            MemorySegment tokens = arena.allocate(4L * 64, 4);
            MemorySegment values = arena.allocate(4L * 64, 4);
            int bias = 0;
            for (int i = 0; i < r; i++) {
                SamplingParams p = rows.get(i);
                cpu.add(Sampler.create(p, VOCAB, i % p.n()));
                SamplingSlots.write(table, i, p, p.seed(), i % p.n(), bias);
                bias = SamplingSlots.writeBias(tokens, values, bias, p);
            }
            params = mem.bytes(table.toArray(ValueLayout.JAVA_BYTE));
            biasTokens = mem.bytes(tokens.toArray(ValueLayout.JAVA_BYTE));
            biasValues = mem.bytes(values.toArray(ValueLayout.JAVA_BYTE));
        }
        int[] slots = new int[r];
        for (int i = 0; i < r; i++) {
            slots[i] = i;
        }
        DeviceBuffer slotBuf = mem.ints(slots);
        DeviceBuffer counts = mem.zeros(4L * r * VOCAB);
        DeviceBuffer keys = mem.zeros(8L * r * VOCAB);
        DeviceBuffer weights = mem.zeros(8L * r * VOCAB);
        DeviceBuffer token = mem.zeros(4L * r);
        DeviceBuffer logprob = mem.zeros(4L * r);
        DeviceBuffer topIds = mem.zeros(4L * r * SamplingSlots.MAX_TOP);
        DeviceBuffer topLogprobs = mem.zeros(4L * r * SamplingSlots.MAX_TOP);
        DeviceBuffer status = mem.zeros(4L * r);
        Kernel sample = kernel(KernelSource.SAMPLING, "sample_tokens");
        for (int step = 0; step < steps; step++) {
            float[] logits = randomFloats(r * VOCAB, 2f);
            int[] index = new int[r];
            Arrays.fill(index, step);
            sample.launch(LaunchShape.of(r, THREADS), stream, KernelArgs.of().pointer(token).pointer(logprob)
                    .pointer(topIds).pointer(topLogprobs).pointer(status).pointer(mem.floats(logits)).pointer(keys)
                    .pointer(weights).pointer(params).pointer(slotBuf).pointer(mem.ints(index)).pointer(counts)
                    .nullPointer().pointer(biasTokens).pointer(biasValues).i32(VOCAB));
            int[] tokens = mem.readInts(token, r);
            float[] lps = mem.readFloats(logprob, r);
            int[] ids = mem.readInts(topIds, r * SamplingSlots.MAX_TOP);
            float[] tlps = mem.readFloats(topLogprobs, r * SamplingSlots.MAX_TOP);
            int[] st = mem.readInts(status, r);
            for (int i = 0; i < r; i++) {
                SampledToken expected = cpu.get(i).sample(logits, i * VOCAB);
                String what = "row " + i + " (" + rows.get(i) + ") step " + step;
                assertEquals(0, st[i], what + ": status");
                assertEquals(expected.token(), tokens[i], what + ": token");
                if (rows.get(i).logprobs()) {
                    assertEquals(expected.logprob(), lps[i], 1e-5f, what + ": logprob");
                    for (int k = 0; k < expected.topLogprobs().size(); k++) {
                        assertEquals(expected.topLogprobs().get(k).token(), ids[i * SamplingSlots.MAX_TOP + k],
                                what + ": top " + k);
                        assertEquals(expected.topLogprobs().get(k).logprob(), tlps[i * SamplingSlots.MAX_TOP + k],
                                1e-5f, what + ": top logprob " + k);
                    }
                }
            }
        }
    }

    private static SamplingParams.Builder seeded(long seed) {
        return SamplingParams.builder().seed(seed);
    }

    @Test
    void greedyRowsTakeTheArgmaxAndReportTopLogprobs() {
        assertKernelSamplesLikeTheCpu(List.of(seeded(1).temperature(0).logprobs(true).topLogprobs(5).build(),
                seeded(2).topK(1).build()), 2);
    }

    @Test
    void temperatureAloneDrawsInIdOrderFromTheSeedChoiceAndStep() {
        assertKernelSamplesLikeTheCpu(List.of(seeded(7).temperature(0.8).build(), seeded(7).temperature(1.5).n(2).build(),
                seeded(-3).temperature(1).logprobs(true).topLogprobs(3).build()), 4);
    }

    @Test
    void topKTopPAndMinPTruncateLikeTheCpu() {
        assertKernelSamplesLikeTheCpu(List.of(seeded(11).topK(10).temperature(1.2).build(),
                seeded(12).topP(0.9).build(), seeded(13).minP(0.05).topP(0.95).temperature(0.9).build(),
                seeded(14).topK(40).topP(0.8).minP(0.1).build()), 3);
    }

    @Test
    void penaltiesCountTheGeneratedTokensAcrossStepsAndLogitBiasApplies() {
        assertKernelSamplesLikeTheCpu(List.of(
                seeded(21).presencePenalty(1.5).frequencyPenalty(2).temperature(0.7).logitBias(Map.of(5, 4f, 9, -100f))
                        .build(),
                seeded(22).temperature(0).frequencyPenalty(2).logprobs(true).topLogprobs(2).build()), 6);
    }

    @Test
    void repetitionPenaltyScalesTheLogitsOfTokensSeenInThePromptOrTheOutput() {
        float[] logits = randomFloats(VOCAB, 2f);
        logits[3] = 5f;     // generated before: 5 / 2 = 2.5
        logits[10] = -1f;   // generated before: -1 * 2 = -2
        logits[20] = 4.5f;  // in the prompt: 2.25
        logits[30] = 4f;    // unseen: stays the best
        int[] counts = new int[VOCAB];
        counts[3] = 1;
        counts[10] = 2;
        int[] promptMask = new int[(VOCAB + 31) / 32];
        promptMask[20 / 32] |= 1 << (20 % 32);
        DeviceBuffer token = mem.zeros(4);
        DeviceBuffer topIds = mem.zeros(4 * SamplingSlots.MAX_TOP);
        DeviceBuffer topLogprobs = mem.zeros(4 * SamplingSlots.MAX_TOP);
        DeviceBuffer countBuf = mem.ints(counts);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate(SamplingSlots.BYTES, 8);
            SamplingSlots.write(table, 0, seeded(1).temperature(0).logprobs(true).topLogprobs(20).build(),
                    1, 0, 0);
            SamplingSlots.writeRepetitionPenalty(table, 0, 2f);
            kernel(KernelSource.SAMPLING, "sample_tokens").launch(LaunchShape.of(1, THREADS), stream, KernelArgs.of()
                    .pointer(token).pointer(mem.zeros(4)).pointer(topIds).pointer(topLogprobs).pointer(mem.zeros(4))
                    .pointer(mem.floats(logits)).pointer(mem.zeros(8L * VOCAB)).pointer(mem.zeros(8L * VOCAB))
                    .pointer(mem.bytes(table.toArray(ValueLayout.JAVA_BYTE))).pointer(mem.ints(0)).pointer(mem.ints(0))
                    .pointer(countBuf).pointer(mem.ints(promptMask)).nullPointer().nullPointer().i32(VOCAB));
        }
        float[] adjusted = logits.clone();
        adjusted[3] = 2.5f;
        adjusted[10] = -2f;
        adjusted[20] = 2.25f;
        SampledToken expected = Sampler.create(seeded(1).temperature(0).logprobs(true).topLogprobs(20).build(), VOCAB, 0)
                .sample(adjusted);
        assertEquals(expected.token(), mem.readInts(token, 1)[0]);
        int[] ids = mem.readInts(topIds, SamplingSlots.MAX_TOP);
        float[] lps = mem.readFloats(topLogprobs, SamplingSlots.MAX_TOP);
        for (int k = 0; k < 20; k++) {
            assertEquals(expected.topLogprobs().get(k).token(), ids[k], "top " + k);
            assertEquals(expected.topLogprobs().get(k).logprob(), lps[k], 1e-5f, "top logprob " + k);
        }
        assertEquals(counts[expected.token()] + 1, mem.readInts(countBuf, VOCAB)[expected.token()],
                "the sampled token is counted for later steps");
    }

    @Test
    void equalLogitsGreedyTakesTheLowestIdAsTheCpuArgmaxDoes() {
        DeviceBuffer token = mem.zeros(4);
        float[] logits = new float[VOCAB];
        logits[3] = -0.0f;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate(SamplingSlots.BYTES, 8);
            SamplingSlots.write(table, 0, seeded(1).temperature(0).build(), 1, 0, 0);
            kernel(KernelSource.SAMPLING, "sample_tokens").launch(LaunchShape.of(1, THREADS), stream, KernelArgs.of()
                    .pointer(token).pointer(mem.zeros(4)).pointer(mem.zeros(80)).pointer(mem.zeros(80))
                    .pointer(mem.zeros(4)).pointer(mem.floats(logits)).pointer(mem.zeros(8L * VOCAB))
                    .pointer(mem.zeros(8L * VOCAB)).pointer(mem.bytes(table.toArray(ValueLayout.JAVA_BYTE)))
                    .pointer(mem.ints(0)).pointer(mem.ints(0)).nullPointer().nullPointer().nullPointer().nullPointer()
                    .i32(VOCAB));
        }
        assertEquals(Sampler.argmax(logits, 0, VOCAB), mem.readInts(token, 1)[0]);
    }
}
