package io.batchllm.cuda.internal;

import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;

/**
 * Drives sequences through an executor's contract as the engine would, for the CUDA executor's own
 * tests: sequence i takes slot i and the blocks {@code [i * perSequence, (i + 1) * perSequence)},
 * joins at step {@code i * joinEvery}, sends its prompt whole, then feeds back its samples. Its seed
 * is its settings' (or 77 + i).
 */
final class Generations {
    /** What one sequence sampled. */
    record Sampled(int[] tokens, float[] logprobs) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Sampled s && Arrays.equals(tokens, s.tokens) && Arrays.equals(logprobs, s.logprobs);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tokens);
        }

        @Override
        public String toString() {
            return Arrays.toString(tokens);
        }
    }

    private Generations() {
    }

    /** Greedy generations of {@code tokens} tokens, all joining at once. */
    static Sampled[] greedy(DeviceExecutor ex, List<int[]> prompts, int tokens) {
        SamplingParams greedy = SamplingParams.builder().temperature(0).build();
        return run(ex, prompts.stream().map(p -> greedy).toList(), prompts, tokens, 0);
    }

    static Sampled[] run(DeviceExecutor ex, List<SamplingParams> params, List<int[]> prompts, int tokens, int joinEvery) {
        int n = prompts.size();
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0) + tokens;
        int blockSize = 8;
        int perSequence = KvLayout.blocksFor(longest, blockSize);
        ex.allocateKvCache(new KvLayout(blockSize, n * perSequence), n);
        int[][] out = new int[n][tokens];
        float[][] logprobs = new float[n][tokens];
        int[] produced = new int[n];
        StepPlan plan = new StepPlan();
        int[] entrySlot = new int[n];
        for (int step = 0; !allDone(produced, tokens); step++) {
            plan.clear();
            int entries = 0;
            for (int i = 0; i < n; i++) {
                int join = i * joinEvery;
                if (step < join || produced[i] == tokens) {
                    continue;
                }
                int[] prompt = prompts.get(i);
                if (step == join) {
                    int[] blocks = new int[perSequence];
                    for (int b = 0; b < perSequence; b++) {
                        blocks[b] = i * perSequence + b;
                    }
                    SamplingParams p = params.get(i);
                    long seed = p.seed() != null ? p.seed() : 77L + i;
                    plan.start(new SequenceStart(i, p, seed, 0, blocks, 0, prompt, new int[0], new int[0]));
                    plan.chunk(i, 0, prompt, 0, prompt.length, true);
                } else {
                    plan.feedback(i, prompt.length + produced[i] - 1);
                }
                entrySlot[entries++] = i;
            }
            StepResult r = ex.submit(plan).await();
            for (int e = 0; e < entries; e++) {
                int i = entrySlot[e];
                if (r.failure(e) != null) {
                    throw new AssertionError("sequence " + i + " failed: " + r.failure(e));
                }
                out[i][produced[i]] = r.token(e);
                logprobs[i][produced[i]++] = r.logprob(e);
            }
        }
        Sampled[] result = new Sampled[n];
        for (int i = 0; i < n; i++) {
            result[i] = new Sampled(out[i], logprobs[i]);
        }
        return result;
    }

    private static boolean allDone(int[] produced, int tokens) {
        for (int p : produced) {
            if (p < tokens) {
                return false;
            }
        }
        return true;
    }
}
