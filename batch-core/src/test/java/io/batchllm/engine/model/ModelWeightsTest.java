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
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.testing.SharedData;
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
        var m = SyntheticModel.llama().build().withMetadata("general.architecture", "gemma3");
        var e = assertThrows(ModelFormatException.class, m::weights);
        assertEquals("model: architecture 'gemma3' is not supported; supported: llama, qwen2", e.getMessage());
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
}
