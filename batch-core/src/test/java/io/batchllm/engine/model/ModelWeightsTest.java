package io.batchllm.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.testing.SharedData;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelWeightsTest {

    @Test
    void readsTheStoriesModelsHyperparametersWithLlamaCppDefaults() {
        try (GgufFile file = GgufFile.open(SharedData.file("models/stories260K.gguf"))) {
            ModelWeights w = ModelWeights.fromGguf(file);
            ModelConfig c = w.config();
            // Values from shared/models/README.md.
            assertEquals(Architecture.LLAMA, c.architecture());
            assertEquals(64, c.embeddingLength());
            assertEquals(5, c.blockCount());
            assertEquals(8, c.headCount());
            assertEquals(4, c.headCountKv());
            assertEquals(8, c.headDim());
            assertEquals(172, c.feedForwardLength());
            assertEquals(512, c.vocabSize());
            assertEquals(2048, c.contextLength());
            assertEquals(1e-5f, c.rmsNormEps());
            assertEquals(RopeType.NORM, c.ropeType());
            assertEquals(10000f, c.ropeFreqBase(), "rope.freq_base is absent, so llama.cpp's default applies");
            assertEquals(RopeScaling.NONE, c.ropeScaling());
            assertFalse(w.outputTied(), "this file carries output.weight (a copy of the embedding)");
            assertEquals(5, w.layers().size());
            assertNull(w.layers().get(0).attnQBias());
        }
    }

    @Test
    void aMissingOutputTensorTiesTheHeadToTheEmbedding() {
        ModelWeights w = SyntheticModel.llama().tied(true).build().weights();
        assertTrue(w.outputTied());
        assertSame(w.tokenEmbedding(), w.output());
    }

    @Test
    void qwen2UsesNeoxRopeAndLoadsItsBiases() {
        ModelWeights w = SyntheticModel.qwen2().build().weights();
        assertEquals(RopeType.NEOX, w.config().ropeType());
        assertEquals(1_000_000f, w.config().ropeFreqBase());
        assertNotNull(w.layers().get(1).attnVBias());
    }

    @Test
    void ropeFrequenciesAreDividedByTheRopeFreqsTensor() {
        SyntheticModel m = SyntheticModel.llama().dim(64).heads(4).ropeFreqs(true).build();
        double[] f = m.weights().ropeFrequencies();
        float[] divisors = m.tensors().get("rope_freqs.weight").data()
                .toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        assertEquals(8, f.length);
        for (int i = 0; i < 8; i++) {
            assertEquals(Math.pow(10000, -i / 8.0) / divisors[i], f[i], 1e-12);
        }
    }

    @Test
    void linearScalingDividesEveryFrequencyByTheFactor() {
        ModelWeights w = SyntheticModel.llama().key("rope.scaling.factor", 4.0f).build().weights();
        assertEquals(RopeScaling.Type.LINEAR, w.config().ropeScaling().type(), "a factor without a type is linear");
        // Default builder: head size 64/4 = 16, so pair 1 is 10000^(-2/16).
        assertEquals(Math.pow(10000, -2.0 / 16) / 4, w.ropeFrequencies()[1], 1e-12);
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndDividesLowOnesByTheFactor() {
        ModelWeights w = SyntheticModel.llama().dim(64).heads(4).key("rope.scaling.type", "llama3")
                .key("rope.scaling.factor", 8.0f).key("rope.scaling.original_context_length", 256L).build().weights();
        double[] f = w.ropeFrequencies();
        // Wavelength 2π (pair 0) is below 256/4: unchanged. Pair 7's 2π·10000^(7/8) ≈ 19869 is above 256: ÷8.
        assertEquals(1.0, f[0], 1e-12);
        assertEquals(Math.pow(10000, -7 / 8.0) / 8, f[7], 1e-12);
    }

    @Test
    void anUnknownArchitectureIsRefusedNamingTheSupportedOnes() {
        var m = SyntheticModel.llama().build().withMetadata("general.architecture", "mamba");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertEquals("model: architecture 'mamba' is not supported; supported: llama, qwen2, qwen3, gemma2, gemma3, "
                + "phi3", e.getMessage());
    }

    @Test
    void aMissingRequiredKeyIsNamed() {
        var m = SyntheticModel.llama().build().withMetadata("llama.attention.layer_norm_rms_epsilon", null);
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertEquals("model: required metadata key 'llama.attention.layer_norm_rms_epsilon' is missing", e.getMessage());
    }

    @Test
    void aMissingTensorIsNamedWithTheShapeItShouldHave() {
        var m = SyntheticModel.llama().build().withoutTensor("blk.1.ffn_down.weight");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("tensor 'blk.1.ffn_down.weight' is missing (expected shape [96, 64]"),
                e.getMessage());
    }

    @Test
    void aMisshapedTensorIsNamedWithExpectedAndActualShapes() {
        // K with as many heads as Q: what a file converted with the wrong head_count_kv looks like.
        var m = SyntheticModel.llama().dim(64).heads(4).kvHeads(2).build().withTensor("blk.0.attn_k.weight", 64, 64);
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().startsWith("model: tensor 'blk.0.attn_k.weight' has shape [64, 64] but the metadata "
                + "implies [64, 32]"), e.getMessage());
    }

    @Test
    void qwen2WithoutItsBiasesIsRefused() {
        var m = SyntheticModel.qwen2().build().withoutTensor("blk.0.attn_q.bias");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("tensor 'blk.0.attn_q.bias' is missing"), e.getMessage());
    }

    @Test
    void tensorsTheForwardPassWouldIgnoreAreRefusedRatherThanSilentlyDropped() {
        var m = SyntheticModel.llama().build().withTensor("blk.0.attn_output.bias", 64);
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'blk.0.attn_output.bias' is not supported"), e.getMessage());
    }

    @Test
    void headCountsThatDoNotFormWholeGroupsAreRefused() {
        var m = SyntheticModel.llama().heads(4).kvHeads(3).build();
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'llama.attention.head_count_kv' = 3 does not divide attention.head_count 4"),
                e.getMessage());
    }

    @Test
    void unsupportedRopeScalingIsRefusedNamingTheKey() {
        var m = SyntheticModel.llama().key("rope.scaling.type", "yarn").key("rope.scaling.factor", 4.0f).build();
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'llama.rope.scaling.type' = 'yarn' is not supported"), e.getMessage());
    }

    @Test
    void aKeyOfTheWrongTypeIsNamed() {
        var m = SyntheticModel.llama().build().withMetadata("llama.block_count", "two");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertEquals("model: metadata 'llama.block_count' should be an integer but is a String", e.getMessage());
    }

    @Test
    void theVocabularySizeFallsBackToTheTokenList() {
        var m = SyntheticModel.llama().vocab(80).build().withMetadata("llama.vocab_size", null)
                .withMetadata("tokenizer.ggml.tokens", java.util.Collections.nCopies(80, "t"));
        assertEquals(80, m.weights().config().vocabSize());
        var none = m.withMetadata("tokenizer.ggml.tokens", null);
        var e = assertThrows(ModelFormatException.class, none::weights);
        assertTrue(e.getMessage().contains("the vocabulary size is unknown"), e.getMessage());
    }

    @Test
    void aGgufErrorNamesTheFile() {
        try (GgufFile file = GgufFile.open(SharedData.file("models/stories260K.gguf"))) {
            var e = assertThrows(ModelFormatException.class, () -> ModelWeights.from(file.path().toString(),
                    file.metadata(), name -> name.equals("output_norm.weight") ? java.util.Optional.empty()
                            : file.tensor(name)));
            assertTrue(e.getMessage().startsWith(file.path() + ": tensor 'output_norm.weight' is missing"),
                    e.getMessage());
        }
    }

    @Test
    void derivedSizesFollowTheHeadLayout() {
        ModelConfig c = SyntheticModel.llama().dim(64).heads(8).kvHeads(2).keyLength(16).build().weights().config();
        assertEquals(128, c.queryDim());
        assertEquals(32, c.kvDim());
        assertEquals(4, c.groupSize());
        assertArrayEquals(new long[] {64, 128},
                SyntheticModel.llama().dim(64).heads(8).kvHeads(2).keyLength(16).build().weights().layers().get(0)
                        .attnQ().dims());
    }

    @Test
    void phi3sFusedProjectionsAreSplitIntoViewsOfTheirRows() {
        SyntheticModel m = SyntheticModel.phi3().dim(64).heads(4).kvHeads(2).ffn(96).build();
        LayerWeights l = m.weights().layers().get(0);
        GgufTensor qkv = m.tensors().get("blk.0.attn_qkv.weight");
        long rowBytes = qkv.rowBytes();
        assertArrayEquals(new long[] {64, 64}, l.attnQ().dims());
        assertArrayEquals(new long[] {64, 32}, l.attnK().dims());
        assertArrayEquals(new long[] {64, 32}, l.attnV().dims());
        assertEquals(qkv.data().address(), l.attnQ().data().address());
        assertEquals(qkv.data().address() + 64 * rowBytes, l.attnK().data().address(), "K follows Q's 64 rows");
        assertEquals(qkv.data().address() + 96 * rowBytes, l.attnV().data().address(), "V follows K's 32 rows");
        GgufTensor up = m.tensors().get("blk.0.ffn_up.weight");
        assertArrayEquals(new long[] {64, 96}, l.ffnGate().dims());
        assertEquals(up.data().address(), l.ffnGate().data().address(), "the gate is the first half");
        assertEquals(up.data().address() + 96 * up.rowBytes(), l.ffnUp().data().address());
    }

    @Test
    void phi3sSeparateAndFusedQkvTogetherAreRefused() {
        var m = SyntheticModel.phi3().build().withTensor("blk.0.attn_q.weight", 64, 64);
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'blk.0.attn_q.weight' is not supported") && e.getMessage().contains(
                "also has the fused 'attn_qkv.weight'"), e.getMessage());
    }

    @Test
    void longRopeUsesTheLongFactorsOnlyWhenTheContextExceedsTheOriginalOne() {
        SyntheticModel m = SyntheticModel.phi3().build();
        float[] longF = floats(m.tensors().get("rope_factors_long.weight"));
        float[] shortF = floats(m.tensors().get("rope_factors_short.weight"));
        // rope.dimension_count 12: six pairs, base 10000
        double[] f = m.weights().ropeFrequencies();
        assertEquals(6, f.length);
        assertEquals(Math.pow(10000, -2.0 * 3 / 12) / longF[3], f[3], 1e-12, "context 64 > original 16");
        double[] g = m.withMetadata("phi3.rope.scaling.original_context_length", 64L).weights().ropeFrequencies();
        assertEquals(Math.pow(10000, -2.0 * 3 / 12) / shortF[3], g[3], 1e-12, "context 64 is not above 64");
        assertEquals(1.2f, (float) m.weights().config().ropeScaling().attnFactor());
    }

    @Test
    void longRopeWithOnlyOneFactorTensorOrNamedWithoutTensorsIsRefused() {
        var half = SyntheticModel.phi3().build().withoutTensor("rope_factors_short.weight");
        var e = assertThrows(ModelFormatException.class, half::weights);
        assertTrue(e.getMessage().contains("'rope_factors_short.weight' is not present"), e.getMessage());
        var named = SyntheticModel.llama().key("rope.scaling.type", "longrope").build();
        e = assertThrows(ModelFormatException.class, named::weights);
        assertTrue(e.getMessage().contains("neither is present") && e.getMessage().contains("says longrope"),
                e.getMessage());
    }

    @Test
    void gemma3sSlidingWindowLayersUseTheirOwnUnscaledRopeBase() {
        ModelWeights w = SyntheticModel.gemma3().build().weights();
        ModelConfig c = w.config();
        assertEquals(List.of(true, true, true, true, true, false), covered(c.slidingWindow(), 6));
        // head size 32; window layers: base 10000, no scaling; the global layer 5: base 1e6, linear factor 8
        assertEquals(Math.pow(10000, -2.0 * 3 / 32), w.ropeFrequencies(0)[3], 1e-15);
        assertEquals(Math.pow(1e6, -2.0 * 3 / 32) / 8, w.ropeFrequencies(5)[3], 1e-15);
    }

    @Test
    void slidingWindowsFollowTheArchitecturesPatternOrTheFilesKey() {
        assertEquals(List.of(true, false, true), covered(SyntheticModel.gemma2().build().weights().config()
                .slidingWindow(), 3), "gemma2: even layers");
        assertEquals(List.of(true, true), covered(SyntheticModel.llama().key("attention.sliding_window", 7L).build()
                .weights().config().slidingWindow(), 2), "mistral: every layer");
        assertEquals(SlidingWindow.NONE, SyntheticModel.llama().build().weights().config().slidingWindow());
        assertEquals(List.of(false, true, true), covered(SyntheticModel.gemma2().build()
                .withMetadata("gemma2.attention.sliding_window_pattern", new boolean[] {false, true, true}).weights()
                .config().slidingWindow(), 3), "one flag per layer");
        SlidingWindow w = SyntheticModel.gemma2().build().weights().config().slidingWindow();
        assertEquals(0, w.firstVisible(0, 4));
        assertEquals(1, w.firstVisible(0, 5), "a window of 5 at position 5 starts at 1");
        assertEquals(0, w.firstVisible(1, 5), "a global layer sees everything");
    }

    @Test
    void aBadSlidingWindowPatternIsRefusedNamingTheKey() {
        var m = SyntheticModel.gemma2().build().withMetadata("gemma2.attention.sliding_window_pattern",
                new boolean[] {true});
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'gemma2.attention.sliding_window_pattern' = 1 flags should have one per "
                + "layer (3)"), e.getMessage());
    }

    @Test
    void gemma2DefaultsItsCapsAndWindowToLlamaCppsWhenTheFileOmitsThem() {
        ModelConfig c = SyntheticModel.gemma2().build().withMetadata("gemma2.attention.sliding_window", null)
                .withMetadata("gemma2.attn_logit_softcapping", null).withMetadata("gemma2.final_logit_softcapping", null)
                .weights().config();
        assertEquals(50f, c.attentionSoftcap());
        assertEquals(30f, c.finalSoftcap());
        assertEquals(4096, c.slidingWindow().size());
        assertEquals((float) Math.sqrt(64), c.embeddingScale());
        assertEquals(0f, SyntheticModel.gemma3().build().weights().config().finalSoftcap(), "gemma3 has no caps");
        assertEquals(1f, SyntheticModel.qwen3().build().weights().config().embeddingScale());
    }

    @Test
    void gemmasQueryScaleIsTheHeadSizeExceptForThe27bLayerCounts() {
        SyntheticModel.Builder gemma2 = SyntheticModel.gemma2().dim(64).heads(4).keyLength(32);
        assertEquals((float) (1 / Math.sqrt(32)), gemma2.build().weights().config().queryScale());
        // 46 layers: Gemma 2 27B, whose query_pre_attn_scalar is dim / heads = 16
        assertEquals((float) (1 / Math.sqrt(16)), gemma2.layers(46).build().weights().config().queryScale());
        assertEquals((float) (1 / Math.sqrt(32)), SyntheticModel.llama().dim(64).heads(2).build().weights().config()
                .queryScale(), "everyone else: the head size");
    }

    @Test
    void aTensorOfAnotherArchitecturesQuirkIsRefusedRatherThanIgnored() {
        var qkNorm = SyntheticModel.llama().build().withTensor("blk.0.attn_q_norm.weight", 16);
        var e = assertThrows(ModelFormatException.class, qkNorm::weights);
        assertTrue(e.getMessage().contains("'blk.0.attn_q_norm.weight' is not supported by this engine's llama"),
                e.getMessage());
        var postNorm = SyntheticModel.qwen3().build().withTensor("blk.1.post_ffw_norm.weight", 64);
        e = assertThrows(ModelFormatException.class, postNorm::weights);
        assertTrue(e.getMessage().contains("'blk.1.post_ffw_norm.weight' is not supported"), e.getMessage());
        var fused = SyntheticModel.llama().build().withTensor("blk.0.attn_qkv.weight", 64, 128);
        e = assertThrows(ModelFormatException.class, fused::weights);
        assertTrue(e.getMessage().contains("'blk.0.attn_qkv.weight' is not supported"), e.getMessage());
    }

    @Test
    void qwen3AndGemmaNeedTheirNorms() {
        var m = SyntheticModel.qwen3().build().withoutTensor("blk.0.attn_k_norm.weight");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("tensor 'blk.0.attn_k_norm.weight' is missing (expected shape [32]"),
                e.getMessage());
        var g = SyntheticModel.gemma2().build().withoutTensor("blk.2.post_attention_norm.weight");
        e = assertThrows(ModelFormatException.class, g::weights);
        assertTrue(e.getMessage().contains("'blk.2.post_attention_norm.weight' is missing"), e.getMessage());
    }

    @Test
    void aNegativeSoftcapIsRefusedNamingTheKey() {
        var m = SyntheticModel.gemma2().key("final_logit_softcapping", -1.0f).build();
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertTrue(e.getMessage().contains("'gemma2.final_logit_softcapping' = -1.0 must be a finite number >= 0"),
                e.getMessage());
    }

    private static List<Boolean> covered(SlidingWindow w, int layers) {
        List<Boolean> out = new java.util.ArrayList<>();
        for (int l = 0; l < layers; l++) {
            out.add(w.covers(l));
        }
        return out;
    }

    private static float[] floats(GgufTensor t) {
        return t.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    }
}
