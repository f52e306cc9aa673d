package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every architecture and every tensor type end to end: a GGUF written by the project's writer (real
 * head sizes, a sliding window shorter than the text, peaky logits so that greedy decoding is
 * decided by clear margins) is loaded from disk and decoded greedily through the device contract
 * (chunked prefill across block boundaries, then fed-back decodes, sampling and top logprobs on the
 * executor), and must give the greedy tokens and top-5 logprobs of the architecture's double-precision
 * reference run on the same (decoded) weights. Each architecture runs in several types and each type
 * in at least one architecture.
 */
class ArchitecturesAndTypesGreedyTest {
    private static final int PROMPT = 12;
    private static final int GENERATED = 20;
    private static final int TOP = 5;
    /** Logprobs in F32 against double: ~1e-5 here; a wrong quirk moves them by far more. */
    private static final double LOGPROB_TOLERANCE = 2e-3;

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(
                model("llama", GgmlType.F32, llama()),
                model("llama", GgmlType.Q2_K, llama()),
                model("llama", GgmlType.IQ4_XS, llama()),
                model("mistral (llama with a window of 8)", GgmlType.Q8_0, llama().slidingWindow(8)),
                model("mistral (llama with a window of 8)", GgmlType.Q4_K, llama().slidingWindow(8)),
                model("qwen2", GgmlType.Q4_0, qwen2()),
                model("qwen2", GgmlType.Q4_K, qwen2()),
                model("qwen3", GgmlType.F16, qwen3()),
                model("qwen3", GgmlType.Q5_0, qwen3()),
                model("qwen3", GgmlType.IQ4_NL, qwen3()),
                model("gemma2", GgmlType.BF16, gemma2()),
                model("gemma2", GgmlType.Q3_K, gemma2().seed(5)),
                model("gemma3", GgmlType.F32, gemma3()),
                model("gemma3", GgmlType.Q4_1, gemma3()),
                model("gemma3", GgmlType.Q5_K, gemma3()),
                model("phi3", GgmlType.F32, phi3()),
                model("phi3", GgmlType.Q5_1, phi3()),
                model("phi3", GgmlType.Q6_K, phi3()));
    }

    private static Arguments model(String name, GgmlType type, SyntheticModel.Builder b) {
        return Arguments.of(name + " " + type, b.weightType(type).build());
    }

    private static SyntheticModel.Builder common(String arch) {
        return SyntheticModel.builder().architecture(arch).dim(256).ffnHidden(512).vocabSize(512).layers(2)
                .contextLength(128).tiedOutput(false).outputStd(0.4f).normJitter(0.1f).seed(arch.hashCode());
    }

    private static SyntheticModel.Builder llama() {
        return common("llama").heads(4).kvHeads(2);
    }

    private static SyntheticModel.Builder qwen2() {
        return common("qwen2").heads(2).kvHeads(1).qkvBias(true).ropeFreqBase(1e6f);
    }

    /** Qwen3-0.6B's head size of 128, wider than dim / heads. */
    private static SyntheticModel.Builder qwen3() {
        return common("qwen3").heads(4).kvHeads(2).headDim(128).ropeFreqBase(1e6f);
    }

    /** Gemma 2's head size of 256, a window of 8 on layer 0, its final cap of 30 and a small score cap that bites. */
    private static SyntheticModel.Builder gemma2() {
        return common("gemma2").heads(2).kvHeads(1).headDim(256).slidingWindow(8).attentionSoftcap(5f)
                .finalSoftcap(30f);
    }

    /** Gemma 3: six layers (five windowed, one global with linear RoPE scaling), head size 256. */
    private static SyntheticModel.Builder gemma3() {
        return common("gemma3").layers(6).heads(2).kvHeads(1).headDim(256).slidingWindow(8).ropeFreqBase(1e6f)
                .ropeScalingFactor(8f);
    }

    /** Phi-4-mini's shape of head: 128 values, 96 of them rotated; LongRoPE and a window of 8. */
    private static SyntheticModel.Builder phi3() {
        return common("phi3").heads(2).kvHeads(1).ropeDimension(96).longRope(32, 1.19f).slidingWindow(8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void greedyTokensAndTopLogprobsMatchTheDoublePrecisionReference(String name, SyntheticModel model) {
        Path file = dir.resolve("model.gguf");
        model.write(file);
        int[] prompt = IntStream.range(0, PROMPT).map(i -> 3 + (i * 53) % 500).toArray();
        double[][] reference = new double[GENERATED][];
        int[] expected = new int[GENERATED];
        try (GgufFile g = GgufFile.open(file)) {
            ReferenceTransformer ref = ReferenceTransformer.of(g.metadata(), g::tensor);
            double[] logits = null;
            for (int t : prompt) {
                logits = ref.next(t);
            }
            for (int i = 0; i < GENERATED; i++) {
                reference[i] = logSoftmax(logits);
                expected[i] = argmax(logits);
                assertTrue(margin(logits) > 1e-3, name + ": token " + i + " is a near tie in the reference, so greedy"
                        + " decoding would not be meaningful; change the seed");
                logits = ref.next(expected[i]);
            }
        }
        try (CpuExecutor ex = CpuExecutor.load(file, 2)) {
            StepResult[] results = generate(ex, prompt);
            int[] actual = Arrays.stream(results).mapToInt(r -> r.token(0)).toArray();
            assertArrayEquals(expected, actual, name + ": greedy tokens");
            for (int i = 0; i < GENERATED; i++) {
                assertEquals(TOP, results[i].topCount(0));
                Integer[] order = IntStream.range(0, reference[i].length).boxed().toArray(Integer[]::new);
                double[] lp = reference[i];
                Arrays.sort(order, Comparator.comparingDouble(v -> -lp[v]));
                for (int k = 0; k < TOP; k++) {
                    int token = results[i].topToken(0, k);
                    assertEquals(lp[token], results[i].topLogprob(0, k), LOGPROB_TOLERANCE,
                            name + ": token " + i + ", top " + k + " (" + token + ")");
                    assertEquals(lp[order[k]], lp[token], LOGPROB_TOLERANCE, name + ": token " + i + ", top " + k
                            + " is " + token + ", the reference's is " + order[k]);
                }
            }
        }
    }

    /** One greedy sequence with top logprobs: the prompt in chunks of 5 over blocks of 4, then decodes. */
    private static StepResult[] generate(CpuExecutor ex, int[] prompt) {
        KvLayout layout = new KvLayout(4, 16);
        ex.allocateKvCache(layout, 1);
        SamplingParams greedy = SamplingParams.builder().temperature(0).logprobs(true).topLogprobs(TOP).build();
        int[] blocks = IntStream.range(0, layout.blocksFor(PROMPT + GENERATED)).map(b -> 15 - b).toArray();
        StepPlan plan = new StepPlan();
        StepResult[] out = new StepResult[GENERATED];
        int position = 0;
        for (int i = 0; i < GENERATED; ) {
            plan.clear();
            if (position == 0) {
                plan.start(new SequenceStart(0, greedy, 1L, 0, blocks, 0, prompt, new int[0], new int[0]));
            }
            boolean sample;
            if (position < PROMPT) {
                int end = Math.min(PROMPT, position + 5);
                sample = end == PROMPT;
                plan.chunk(0, position, prompt, position, end, sample);
                position = end;
            } else {
                sample = true;
                plan.feedback(0, position++);
            }
            StepResult r = ex.submit(plan).await();
            if (sample) {
                assertNull(r.failure(0));
                out[i++] = r;
            }
        }
        return out;
    }

    private static double[] logSoftmax(double[] logits) {
        double max = Arrays.stream(logits).max().orElseThrow();
        double sum = Arrays.stream(logits).map(v -> Math.exp(v - max)).sum();
        return Arrays.stream(logits).map(v -> v - max - Math.log(sum)).toArray();
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

    /** The gap between the largest and the second largest logit. */
    private static double margin(double[] v) {
        double[] sorted = v.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length - 1] - sorted[sorted.length - 2];
    }
}
