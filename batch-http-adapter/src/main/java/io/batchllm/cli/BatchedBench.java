package io.batchllm.cli;

import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.SplittableRandom;

/**
 * The measurement behind {@code batchllm bench}, after llama.cpp's {@code llama-batched-bench}: for a
 * parallel count B, one step prefills B prompts of random tokens together, then {@code genTokens}
 * steps decode the B sequences in lock-step, one token each per step.
 *
 * <p>The decode steps feed the next seeded random token, not the argmax of the logits: the work per
 * step is the same either way (the executor computes every sequence's logits), and random tokens keep
 * the measurement independent of what a random-weight model happens to predict. A warm-up round runs
 * first for every B, with the measured prompt length and up to {@link #WARMUP_GEN_TOKENS} decode steps:
 * a short warm-up left the softmax and attention kernels interpreted for the first timed phase of a
 * small model (15M at B = 1 measured half its real speed).
 *
 * <p>Each sequence gets its own {@link #BLOCK_SIZE}-position KV blocks (no sharing: the prompts are
 * random), and the cache is allocated for B such sequences before each parallel count.
 *
 * <p>Not thread safe; it drives the executor from the calling thread.
 */
final class BatchedBench {
    /** Decode steps of each warm-up round, at most (its prompt is the measured length). */
    static final int WARMUP_GEN_TOKENS = 32;
    /** KV block size: the engine's usual 16 positions. */
    static final int BLOCK_SIZE = 16;

    /** One parallel count's timings. */
    record Result(int parallel, int promptTokens, int genTokens, double promptSeconds, double decodeSeconds) {
        /** All prompts' tokens per second of the prefill step: B·PP / T_PP. */
        double promptTokensPerSecond() {
            return (double) parallel * promptTokens / promptSeconds;
        }

        /** Aggregate decode throughput: B·TG / T_TG. */
        double decodeTokensPerSecond() {
            return (double) parallel * genTokens / decodeSeconds;
        }
    }

    private final DeviceExecutor executor;
    private final long seed;

    BatchedBench(DeviceExecutor executor, long seed) {
        this.executor = executor;
        this.seed = seed;
    }

    /**
     * Measures one parallel count {@code repetitions} times and keeps the median prompt and decode
     * times (each on its own).
     */
    Result measure(int parallel, int promptTokens, int genTokens, int repetitions) {
        int blocksPerSequence = KvLayout.blocksFor(promptTokens + genTokens, BLOCK_SIZE);
        executor.allocateKvCache(new KvLayout(BLOCK_SIZE, parallel * blocksPerSequence));
        round(parallel, promptTokens, Math.min(genTokens, WARMUP_GEN_TOKENS));
        double[] prompt = new double[repetitions];
        double[] decode = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            double[] times = round(parallel, promptTokens, genTokens);
            prompt[r] = times[0];
            decode[r] = times[1];
        }
        return new Result(parallel, promptTokens, genTokens, median(prompt), median(decode));
    }

    /** One prefill step and {@code genTokens} decode steps; returns their seconds. */
    private double[] round(int parallel, int promptTokens, int genTokens) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int vocab = executor.config().vocabSize();
        int blocksPerSequence = executor.kvLayout().blockCount() / parallel;
        int[][] blockTables = new int[parallel][];
        List<SequenceStep> prefill = new ArrayList<>(parallel);
        for (int b = 0; b < parallel; b++) {
            blockTables[b] = IntStream.range(b * blocksPerSequence, (b + 1) * blocksPerSequence).toArray();
            prefill.add(SequenceStep.prefill(blockTables[b], rnd.ints(promptTokens, 0, vocab).toArray()));
        }
        long start = System.nanoTime();
        executor.step(new StepInput(prefill));
        long prefilled = System.nanoTime();
        SequenceStep[] decode = new SequenceStep[parallel];
        for (int g = 0; g < genTokens; g++) {
            for (int b = 0; b < parallel; b++) {
                decode[b] = SequenceStep.decode(blockTables[b], promptTokens + g, rnd.nextInt(vocab));
            }
            executor.step(StepInput.of(decode));
        }
        long decoded = System.nanoTime();
        return new double[] {(prefilled - start) / 1e9, (decoded - prefilled) / 1e9};
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
