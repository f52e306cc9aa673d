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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The sampling kernel against the CPU engine's {@link Sampler}, the oracle: each row is one sequence
 * with its own settings, prompt, earlier tokens and end tokens, its penalty state built on the device
 * by {@code init_history} as the executor builds it; for several steps both get the same fresh
 * logits, and the kernel, drawing from (seed, choice, generated-token index), must pick the CPU's
 * token and report its logprobs.
 */
abstract class SamplingContract extends GpuTestBase {
    static final int VOCAB = 257;
    static final int THREADS = 64;

    /** One sequence: its settings, and the history its sampler starts from. */
    record Row(SamplingParams params, int choice, int[] prompt, int[] history, int[] endTokens) {
        static Row of(SamplingParams params) {
            return new Row(params, params.n() - 1, new int[0], new int[0], new int[0]);
        }
    }

    private void assertKernelSamplesLikeTheCpu(List<Row> rows, int steps) {
        assertKernelSamplesLikeTheCpu(rows, steps, null);
    }

    /** As above, each row {@code i} also restricted by the token mask {@code masks[i]} when it is not null. */
    private void assertKernelSamplesLikeTheCpu(List<Row> rows, int steps, long[][] masks) {
        int r = rows.size();
        int words = (VOCAB + 63) / 64;
        DeviceBuffer maskBuf = null;
        DeviceBuffer maskedBuf = null;
        if (masks != null) {
            java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(8 * words * r).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int[] masked = new int[r];
            for (int i = 0; i < r; i++) {
                for (int w = 0; w < words; w++) {
                    all.putLong(masks[i] == null ? -1L : masks[i][w]);
                }
                masked[i] = masks[i] == null ? 0 : 1;
            }
            maskBuf = mem.bytes(all.array());
            maskedBuf = mem.ints(masked);
        }
        float[] scratch = new float[VOCAB];
        List<Sampler> cpu = new ArrayList<>();
        DeviceBuffer params;
        DeviceBuffer biasTokens;
        DeviceBuffer biasValues;
        DeviceBuffer endTokens;
        List<Integer> history = new ArrayList<>();
        int[] info = new int[5 * r];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate((long) r * SamplingSlots.BYTES, 8);
            MemorySegment tokens = arena.allocate(4L * 64, 4);
            MemorySegment values = arena.allocate(4L * 64, 4);
            List<Integer> ends = new ArrayList<>();
            int bias = 0;
            for (int i = 0; i < r; i++) {
                Row row = rows.get(i);
                SamplingParams p = row.params();
                cpu.add(Sampler.create(p, VOCAB, row.choice(), p.seed(), row.prompt(), row.history(), row.endTokens()));
                SamplingSlots.write(table, i, p, p.seed(), row.choice(),
                        new SamplingSlots.Lists(bias, ends.size(), row.endTokens().length));
                bias = SamplingSlots.writeBias(tokens, values, bias, p);
                for (int t : row.endTokens()) {
                    ends.add(t);
                }
                int[] prompt = p.repetitionPenalty() != 1 ? row.prompt() : new int[0];
                info[5 * i] = i;
                info[5 * i + 1] = history.size();
                info[5 * i + 2] = prompt.length;
                for (int t : prompt) {
                    history.add(t);
                }
                info[5 * i + 3] = history.size();
                info[5 * i + 4] = row.history().length;
                for (int t : row.history()) {
                    history.add(t);
                }
            }
            params = mem.bytes(table.toArray(ValueLayout.JAVA_BYTE));
            biasTokens = mem.bytes(tokens.toArray(ValueLayout.JAVA_BYTE));
            biasValues = mem.bytes(values.toArray(ValueLayout.JAVA_BYTE));
            endTokens = mem.ints(ends.stream().mapToInt(Integer::intValue).toArray());
        }
        int[] slots = new int[r];
        for (int i = 0; i < r; i++) {
            slots[i] = i;
        }
        DeviceBuffer slotBuf = mem.ints(slots);
        DeviceBuffer counts = mem.zeros(4L * r * VOCAB);
        DeviceBuffer promptMask = mem.zeros(4L * r * ((VOCAB + 31) / 32));
        kernel(KernelSource.STEP, "init_history").launch(LaunchShape.of(r, 32), stream, KernelArgs.of().pointer(counts)
                .pointer(promptMask).pointer(mem.ints(history.stream().mapToInt(Integer::intValue).toArray()))
                .pointer(mem.ints(info)).i32(VOCAB));
        DeviceBuffer keys = mem.zeros(8L * r * VOCAB);
        DeviceBuffer weights = mem.zeros(8L * r * VOCAB);
        DeviceBuffer token = mem.zeros(4L * r);
        DeviceBuffer last = mem.zeros(4L * r);
        DeviceBuffer logprob = mem.zeros(4L * r);
        DeviceBuffer topIds = mem.zeros(4L * r * SamplingSlots.MAX_TOP);
        DeviceBuffer topLogprobs = mem.zeros(4L * r * SamplingSlots.MAX_TOP);
        DeviceBuffer status = mem.zeros(4L * r);
        Kernel sample = kernel(KernelSource.SAMPLING, "sample_tokens");
        for (int step = 0; step < steps; step++) {
            float[] logits = randomFloats(r * VOCAB, 2f);
            int[] index = new int[r];
            for (int i = 0; i < r; i++) {
                index[i] = rows.get(i).history().length + step;
            }
            KernelArgs args = KernelArgs.of().pointer(token).pointer(logprob)
                    .pointer(topIds).pointer(topLogprobs).pointer(status).pointer(last).pointer(mem.floats(logits))
                    .pointer(keys).pointer(weights).pointer(params).pointer(slotBuf).pointer(mem.ints(index))
                    .pointer(counts).pointer(promptMask).pointer(biasTokens).pointer(biasValues).pointer(endTokens);
            if (masks == null) {
                args.nullPointer().nullPointer();
            } else {
                args.pointer(maskBuf).pointer(maskedBuf);
            }
            sample.launch(LaunchShape.of(r, THREADS), stream, args.i32(VOCAB));
            int[] tokens = mem.readInts(token, r);
            int[] lastTokens = mem.readInts(last, r);
            float[] lps = mem.readFloats(logprob, r);
            int[] ids = mem.readInts(topIds, r * SamplingSlots.MAX_TOP);
            float[] tlps = mem.readFloats(topLogprobs, r * SamplingSlots.MAX_TOP);
            int[] st = mem.readInts(status, r);
            for (int i = 0; i < r; i++) {
                SampledToken expected = sampled(cpu.get(i), logits, i * VOCAB, scratch,
                        masks == null ? null : masks[i]);
                String what = "row " + i + " (" + rows.get(i).params() + ") step " + step;
                assertEquals(0, st[i], what + ": status");
                assertEquals(expected.token(), tokens[i], what + ": token");
                assertEquals(expected.token(), lastTokens[i], what + ": the slot's token to feed back");
                if (rows.get(i).params().logprobs()) {
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

    private static SampledToken sampled(Sampler s, float[] logits, int offset, float[] scratch, long[] mask) {
        int token = s.sample(logits, offset, scratch, mask);
        List<io.batchllm.engine.sampling.TokenLogprob> top = new ArrayList<>();
        for (int k = 0; k < s.topLogprobCount(); k++) {
            top.add(new io.batchllm.engine.sampling.TokenLogprob(s.topLogprobToken(k), s.topLogprobValue(k)));
        }
        return new SampledToken(token, s.logprob(), top);
    }

    /** A mask allowing every third token from {@code from}, and token 42. */
    private static long[] everyThird(int from) {
        long[] words = new long[(VOCAB + 63) / 64];
        for (int t = from; t < VOCAB; t += 3) {
            words[t / 64] |= 1L << (t % 64);
        }
        words[0] |= 1L << 42;
        return words;
    }

    @Test
    void aTokenMaskRestrictsEachRowsSampleAsItRestrictsTheCpus() {
        SamplingParams greedy = seeded(61).temperature(0).logitBias(Map.of(43, 30f)).logprobs(true).topLogprobs(3)
                .build();
        assertKernelSamplesLikeTheCpu(List.of(Row.of(greedy), Row.of(seeded(62).temperature(1.1).build()),
                Row.of(seeded(63).topK(20).topP(0.9).build()), Row.of(seeded(64).minP(0.05).temperature(0.8).build()),
                Row.of(greedy)), 3, new long[][] {everyThird(0), everyThird(1), everyThird(2), everyThird(0), null});
    }

    private static SamplingParams.Builder seeded(long seed) {
        return SamplingParams.builder().seed(seed);
    }

    private void assertKernelSamplesLikeTheCpu(int steps, SamplingParams... params) {
        assertKernelSamplesLikeTheCpu(List.of(params).stream().map(Row::of).toList(), steps);
    }

    @Test
    void greedyRowsTakeTheArgmaxAndReportTopLogprobs() {
        assertKernelSamplesLikeTheCpu(2, seeded(1).temperature(0).logprobs(true).topLogprobs(5).build(),
                seeded(2).topK(1).build());
    }

    @Test
    void temperatureAloneDrawsInIdOrderFromTheSeedChoiceAndStep() {
        assertKernelSamplesLikeTheCpu(4, seeded(7).temperature(0.8).build(), seeded(7).temperature(1.5).n(2).build(),
                seeded(-3).temperature(1).logprobs(true).topLogprobs(3).build());
    }

    @Test
    void topKTopPAndMinPTruncateLikeTheCpu() {
        assertKernelSamplesLikeTheCpu(3, seeded(11).topK(10).temperature(1.2).build(), seeded(12).topP(0.9).build(),
                seeded(13).minP(0.05).topP(0.95).temperature(0.9).build(), seeded(14).topK(40).topP(0.8).minP(0.1).build());
    }

    @Test
    void penaltiesCountTheGeneratedTokensAcrossStepsAndLogitBiasApplies() {
        assertKernelSamplesLikeTheCpu(6,
                seeded(21).presencePenalty(1.5).frequencyPenalty(2).temperature(0.7).logitBias(Map.of(5, 4f, 9, -100f))
                        .build(),
                seeded(22).temperature(0).frequencyPenalty(2).logprobs(true).topLogprobs(2).build());
    }

    /** Prompt tokens 3..40 (some twice) and earlier tokens that repeat some of them. */
    private static Row withHistory(SamplingParams params, int[] endTokens) {
        int[] prompt = new int[50];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + (i * 7) % 38;
        }
        return new Row(params, params.n() - 1, prompt, new int[] {3, 200, 200, 17, 256}, endTokens);
    }

    @Test
    void theRepetitionPenaltyScalesTokensOfThePromptAndTheOutputAsTheCpuDoes() {
        assertKernelSamplesLikeTheCpu(List.of(
                withHistory(seeded(31).temperature(0).repetitionPenalty(2).logprobs(true).topLogprobs(20).build(),
                        new int[0]),
                withHistory(seeded(32).temperature(0.9).repetitionPenalty(1.3).frequencyPenalty(0.5).n(3).build(),
                        new int[0]),
                withHistory(seeded(33).temperature(1.1).topP(0.9).repetitionPenalty(0.8).presencePenalty(-0.5).build(),
                        new int[0])), 5);
    }

    @Test
    void aRestartedSequenceDrawsTheRandomNumbersOfItsGeneratedTokenIndex() {
        // a sampler resumed after 5 tokens draws number 5, 6, … of its stream: the same as never stopping
        assertKernelSamplesLikeTheCpu(List.of(withHistory(seeded(41).temperature(1.2).build(), new int[0]),
                withHistory(seeded(41).temperature(1.2).frequencyPenalty(1).build(), new int[0])), 4);
    }

    @Test
    void minTokensMasksTheEndTokensUntilThatManyWereGenerated() {
        // a bias makes token 42 the likeliest; it is an end token, masked for generated tokens 5..6
        SamplingParams greedy = seeded(51).temperature(0).logitBias(Map.of(42, 30f)).minTokens(7).logprobs(true)
                .topLogprobs(3).build();
        SamplingParams drawn = seeded(52).temperature(1).logitBias(Map.of(42, 30f, 43, 29f)).minTokens(7).topK(5)
                .build();
        assertKernelSamplesLikeTheCpu(List.of(withHistory(greedy, new int[] {42, 7}),
                withHistory(drawn, new int[] {42, 43})), 4);
    }

    @Test
    void equalLogitsGreedyTakesTheLowestIdAsTheCpuArgmaxDoes() {
        DeviceBuffer token = mem.zeros(4);
        float[] logits = new float[VOCAB];
        logits[3] = -0.0f;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate(SamplingSlots.BYTES, 8);
            SamplingSlots.write(table, 0, seeded(1).temperature(0).build(), 1, 0, new SamplingSlots.Lists(0, 0, 0));
            kernel(KernelSource.SAMPLING, "sample_tokens").launch(LaunchShape.of(1, THREADS), stream, KernelArgs.of()
                    .pointer(token).pointer(mem.zeros(4)).pointer(mem.zeros(80)).pointer(mem.zeros(80))
                    .pointer(mem.zeros(4)).nullPointer().pointer(mem.floats(logits)).pointer(mem.zeros(8L * VOCAB))
                    .pointer(mem.zeros(8L * VOCAB)).pointer(mem.bytes(table.toArray(ValueLayout.JAVA_BYTE)))
                    .pointer(mem.ints(0)).pointer(mem.ints(0)).nullPointer().nullPointer().nullPointer().nullPointer()
                    .nullPointer().nullPointer().nullPointer().i32(VOCAB));
        }
        assertEquals(Sampler.argmax(logits, 0, VOCAB), mem.readInts(token, 1)[0]);
    }
}
