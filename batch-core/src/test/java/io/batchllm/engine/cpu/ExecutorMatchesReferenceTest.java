package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.engine.model.SyntheticModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The executor against each architecture's {@link ReferenceTransformer} on random-weight models of every
 * supported variant: three sequences of different lengths prefilled together, then decoded together for
 * several steps (past the sliding windows).
 */
class ExecutorMatchesReferenceTest {

    /** F32 against double over a few layers: errors are ~1e-6 of the logits' scale; a real bug is O(1). */
    private static final double TOLERANCE = 2e-4;
    private static final int DECODE_STEPS = 6;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama, GQA 8:2, head size 16 from key_length, separate output, default freq base",
                        SyntheticModel.llama().dim(64).heads(8).kvHeads(2).keyLength(16).ffn(80).layers(3).build()),
                Arguments.of("llama, tied output, no head_count_kv key (MHA), head size 32",
                        SyntheticModel.llama().dim(64).heads(2).kvHeads(null).tied(true).freqBase(500000.0).build()),
                Arguments.of("qwen2 with q/k/v biases and NEOX rope",
                        SyntheticModel.qwen2().dim(64).heads(4).kvHeads(2).build()),
                Arguments.of("qwen2, tied output, MHA",
                        SyntheticModel.qwen2().dim(48).heads(3).kvHeads(3).tied(true).seed(7).build()),
                Arguments.of("llama 3.1 style: rope_freqs tensor plus llama3 scaling keys",
                        SyntheticModel.llama().dim(64).heads(4).kvHeads(1).ropeFreqs(true).freqBase(500000.0)
                                .key("rope.scaling.type", "llama3").key("rope.scaling.factor", 8.0f)
                                .key("rope.scaling.low_freq_factor", 1.0f).key("rope.scaling.high_freq_factor", 4.0f)
                                .key("rope.scaling.original_context_length", 8192L).build()),
                Arguments.of("llama3 scaling from keys only (no rope_freqs tensor)",
                        SyntheticModel.llama().dim(64).heads(4).kvHeads(2)
                                .key("rope.scaling.type", "llama3").key("rope.scaling.factor", 8.0f)
                                .key("rope.scaling.original_context_length", 256L).build()),
                Arguments.of("llama with linear rope scaling",
                        SyntheticModel.llama().key("rope.scaling.type", "linear").key("rope.scaling.factor", 4.0f)
                                .build()),
                Arguments.of("mistral: llama with a sliding window of 4 on every layer",
                        SyntheticModel.llama().key("attention.sliding_window", 4L).build()),
                Arguments.of("qwen3: per-head Q/K norms, heads of 32 on dim 64",
                        SyntheticModel.qwen3().build()),
                Arguments.of("gemma2: scaled embeddings, post-norms, GeGLU, soft-caps, window of 5 on even layers",
                        SyntheticModel.gemma2().build()),
                Arguments.of("gemma3: QK-norms, five window layers and a global one with its own RoPE base and scaling",
                        SyntheticModel.gemma3().build()),
                Arguments.of("gemma3 with a sliding_window_pattern key of 2",
                        SyntheticModel.gemma3().layers(3).key("attention.sliding_window_pattern", 2L).build()),
                Arguments.of("phi3: fused QKV and gate-up, LongRoPE long factors and attn_factor, partial rotary",
                        SyntheticModel.phi3().build()),
                Arguments.of("phi3 with short factors (context within the original) and a window of 3",
                        SyntheticModel.phi3().key("rope.scaling.original_context_length", 64L)
                                .key("attention.sliding_window", 3L).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void batchedPrefillAndDecodeMatchTheScalarReference(String name, SyntheticModel model) {
        for (int threads : new int[] {1, 2}) {
            compare(model, threads);
        }
    }

    private static void compare(SyntheticModel model, int threads) {
        int[][] prompts = {{3, 17, 5, 60, 2}, {9, 9, 41, 70, 12, 33, 1, 8, 50}, {77}};
        try (CpuExecutor ex = new CpuExecutor(model.weights(), threads)) {
            // blocks of 4 positions, so every sequence spans several blocks
            KvLayout layout = new KvLayout(4, 32);
            ex.allocateKvCache(layout);
            KvBlockPool pool = new KvBlockPool(layout, false);
            List<ReferenceTransformer> refs = new ArrayList<>();
            List<int[]> tables = new ArrayList<>();
            int[] positions = new int[prompts.length];
            List<SequenceStep> batch = new ArrayList<>();
            double[][] expected = new double[prompts.length][];
            for (int[] prompt : prompts) {
                ReferenceTransformer ref = ReferenceTransformer.of(model.metadata(), model.lookup());
                double[] last = null;
                for (int token : prompt) {
                    last = ref.next(token);
                }
                expected[refs.size()] = last;
                refs.add(ref);
                int[] table = pool.allocate(prompt, 32).blockTable();
                positions[tables.size()] = prompt.length;
                tables.add(table);
                batch.add(SequenceStep.prefill(table, prompt));
            }
            StepOutput out = ex.step(new StepInput(batch));
            for (int step = 0; step <= DECODE_STEPS; step++) {
                batch.clear();
                for (int s = 0; s < prompts.length; s++) {
                    assertClose(expected[s], out.logits(s), "threads " + threads + ", sequence " + s + ", step " + step);
                    // Continue with the reference's greedy token so both sides see the same input.
                    int token = argmax(expected[s]);
                    expected[s] = refs.get(s).next(token);
                    batch.add(SequenceStep.decode(tables.get(s), positions[s]++, token));
                }
                if (step < DECODE_STEPS) {
                    out = ex.step(new StepInput(batch));
                }
            }
        }
    }

    private static void assertClose(double[] expected, float[] actual, String where) {
        assertEquals(expected.length, actual.length, where);
        double scale = Arrays.stream(expected).map(Math::abs).max().orElseThrow();
        assertTrue(scale > 0.1, where + ": the reference logits are degenerate, so the comparison would prove nothing");
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (err > worst) {
                worst = err;
                worstAt = i;
            }
        }
        double limit = TOLERANCE * Math.max(1, scale);
        int at = worstAt;
        double w = worst;
        assertTrue(worst <= limit, () -> where + ": logit " + at + " is " + actual[at] + ", reference "
                + expected[at] + " (error " + w + " > " + limit + ")");
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
