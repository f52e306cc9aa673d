package io.batchllm.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.tensor.Dequantize;
import io.batchllm.engine.tensor.Matrix;
import io.batchllm.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticModelTest {

    @TempDir
    Path dir;

    @Test
    void aLlamaModelHasLlamaCppTensorNamesShapesAndKeys() {
        SyntheticModel model = SyntheticModel.builder().dim(64).layers(2).heads(4).kvHeads(2).ffnHidden(96)
                .vocabSize(300).build();
        Path p = dir.resolve("llama.gguf");
        model.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals("llama", g.requireString("general.architecture"));
            assertEquals(64, g.requireInt("llama.embedding_length"));
            assertEquals(2, g.requireInt("llama.block_count"));
            assertEquals(96, g.requireInt("llama.feed_forward_length"));
            assertEquals(4, g.requireInt("llama.attention.head_count"));
            assertEquals(2, g.requireInt("llama.attention.head_count_kv"));
            assertEquals(16, g.requireInt("llama.rope.dimension_count"));
            assertEquals(SyntheticModel.DEFAULT_CONTEXT_LENGTH, g.requireInt("llama.context_length"));
            assertEquals(1e-5f, (float) g.requireDouble("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000.0, g.requireDouble("llama.rope.freq_base"));
            assertEquals(300, g.requireInt("llama.vocab_size"));

            assertArrayEquals(new long[] {64, 300}, g.requireTensor("token_embd.weight").dims());
            assertArrayEquals(new long[] {64}, g.requireTensor("output_norm.weight").dims());
            assertTrue(g.tensor("output.weight").isEmpty(), "output is tied to token_embd");
            assertArrayEquals(new long[] {64, 64}, g.requireTensor("blk.1.attn_q.weight").dims());
            assertArrayEquals(new long[] {64, 32}, g.requireTensor("blk.1.attn_k.weight").dims());
            assertArrayEquals(new long[] {64, 32}, g.requireTensor("blk.1.attn_v.weight").dims());
            assertArrayEquals(new long[] {64, 64}, g.requireTensor("blk.1.attn_output.weight").dims());
            assertArrayEquals(new long[] {64, 96}, g.requireTensor("blk.1.ffn_gate.weight").dims());
            assertArrayEquals(new long[] {64, 96}, g.requireTensor("blk.1.ffn_up.weight").dims());
            assertArrayEquals(new long[] {96, 64}, g.requireTensor("blk.1.ffn_down.weight").dims());
            assertArrayEquals(new long[] {64}, g.requireTensor("blk.0.attn_norm.weight").dims());
            assertArrayEquals(new long[] {64}, g.requireTensor("blk.0.ffn_norm.weight").dims());
            assertEquals(2 + 9 * 2, g.tensors().size());
            long params = g.tensors().values().stream().mapToLong(GgufTensor::elementCount).sum();
            assertEquals(model.parameterCount(), params);
        }
    }

    @Test
    void theSyntheticTokenizerIsALlamaSentencePieceVocabulary() {
        Path p = dir.resolve("vocab.gguf");
        SyntheticModel.builder().vocabSize(1000).chatTemplate("{{ messages }}").build().write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals("llama", g.requireString("tokenizer.ggml.model"));
            @SuppressWarnings("unchecked")
            List<String> tokens = (List<String>) g.get("tokenizer.ggml.tokens").orElseThrow();
            int[] types = (int[]) g.get("tokenizer.ggml.token_type").orElseThrow();
            float[] scores = (float[]) g.get("tokenizer.ggml.scores").orElseThrow();
            assertEquals(1000, tokens.size());
            assertEquals(1000, types.length);
            assertEquals(1000, scores.length);
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), tokens.subList(0, 4));
            assertEquals("<0xFF>", tokens.get(258));
            assertEquals(2, types[0], "unknown");
            assertEquals(3, types[1], "control");
            assertEquals(6, types[3], "byte");
            assertEquals(1, types[259], "normal");
            assertEquals(tokens.size(), new HashSet<>(tokens).size(), "tokens are distinct");
            assertTrue(tokens.contains("\u2581the"));
            assertTrue(tokens.contains("\u2581"));
            assertTrue(scores[260] > scores[999], "earlier pieces rank higher");
            assertEquals(1L, g.getLong("tokenizer.ggml.bos_token_id").orElseThrow());
            assertEquals(2L, g.getLong("tokenizer.ggml.eos_token_id").orElseThrow());
            assertEquals(true, g.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
            assertEquals("{{ messages }}", g.requireString("tokenizer.chat_template"));
        }
    }

    @Test
    void aQwen2ModelHasItsKeyPrefixBiasesAndAnUntiedOutput() {
        Path p = dir.resolve("qwen2.gguf");
        SyntheticModel.builder().architecture("qwen2").dim(64).heads(4).kvHeads(1).qkvBias(true)
                .tiedOutput(false).weightType(GgmlType.Q8_0).ropeFreqBase(1e6f).build().write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals("qwen2", g.requireString("general.architecture"));
            assertEquals(64, g.requireInt("qwen2.embedding_length"));
            assertEquals(1, g.requireInt("qwen2.attention.head_count_kv"));
            assertEquals(1e6, g.requireDouble("qwen2.rope.freq_base"));
            assertFalse(g.metadata().containsKey("llama.embedding_length"));
            GgufTensor qBias = g.requireTensor("blk.0.attn_q.bias");
            assertEquals(GgmlType.F32, qBias.type());
            assertArrayEquals(new long[] {64}, qBias.dims());
            assertArrayEquals(new long[] {16}, g.requireTensor("blk.0.attn_k.bias").dims());
            assertArrayEquals(new long[] {16}, g.requireTensor("blk.1.attn_v.bias").dims());
            assertEquals(GgmlType.Q8_0, g.requireTensor("output.weight").type());
            assertEquals(GgmlType.Q8_0, g.requireTensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F32, g.requireTensor("blk.0.attn_norm.weight").type());
            assertEquals(7L, g.getLong("general.file_type").orElseThrow(), "LLAMA_FTYPE_MOSTLY_Q8_0");
        }
    }

    @Test
    void weightsAreSeededNormalWithTheConfiguredScaleAndNormsAreOne() throws Exception {
        SyntheticModel.Builder b = SyntheticModel.builder().vocabSize(400);
        Path a1 = dir.resolve("a1.gguf");
        Path a2 = dir.resolve("a2.gguf");
        Path other = dir.resolve("other.gguf");
        b.seed(1).build().write(a1);
        b.seed(1).build().write(a2);
        b.seed(2).build().write(other);
        assertArrayEquals(Files.readAllBytes(a1), Files.readAllBytes(a2), "same seed, same file");
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a1), Files.readAllBytes(other)));
        try (GgufFile g = GgufFile.open(a1)) {
            float[] embd = Dequantize.toFloat(g.requireTensor("token_embd.weight"));
            double sum = 0;
            double sumSq = 0;
            for (float v : embd) {
                sum += v;
                sumSq += (double) v * v;
            }
            double mean = sum / embd.length;
            double std = Math.sqrt(sumSq / embd.length - mean * mean);
            // 25600 samples: the sample std is within 1% of 0.02 with overwhelming probability.
            assertEquals(0.02, std, 0.0004);
            assertEquals(0, mean, 0.0005);
            for (float v : Dequantize.toFloat(g.requireTensor("blk.1.ffn_norm.weight"))) {
                assertEquals(1.0f, v);
            }
            float[] q0 = Dequantize.toFloat(g.requireTensor("blk.0.attn_q.weight"));
            float[] q1 = Dequantize.toFloat(g.requireTensor("blk.1.attn_q.weight"));
            assertFalse(java.util.Arrays.equals(q0, q1), "layers get different weights");
        }
    }

    @Test
    void kQuantWeightsWhoseRowsDoNotFillSuperBlocksFallBackToA32BlockType() {
        Path p = dir.resolve("q4k.gguf");
        // dim 288 is not a multiple of 256; ffn 768 is.
        SyntheticModel m = SyntheticModel.builder().dim(288).heads(6).kvHeads(6).ffnHidden(768).layers(1)
                .weightType(GgmlType.Q4_K).build();
        // llama-quantize's fallbacks
        assertEquals(GgmlType.Q5_0, m.typeFor(288));
        assertEquals(GgmlType.Q4_K, m.typeFor(768));
        m.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(GgmlType.Q5_0, g.requireTensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q4_K, g.requireTensor("blk.0.ffn_down.weight").type());
            for (GgufTensor t : g.tensors().values()) {
                if (t.dims().length == 2) {
                    Matrix.of(t); // every weight has a kernel
                }
            }
        }
        SyntheticModel q6 = SyntheticModel.builder().weightType(GgmlType.Q6_K).build();
        assertEquals(GgmlType.Q8_0, q6.typeFor(288));
        assertEquals(GgmlType.F16, q6.typeFor(100));
        for (GgmlType low : new GgmlType[] {GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_XS}) {
            assertEquals(GgmlType.IQ4_NL, SyntheticModel.builder().weightType(low).build().typeFor(288), low.name());
        }
        assertEquals(GgmlType.Q5_1, SyntheticModel.builder().weightType(GgmlType.Q5_K).build().typeFor(288));
    }

    @Test
    void presetsHaveTheReferenceBenchmarkShapesAndParameterCounts() {
        SyntheticModel small = SyntheticModel.stories15M().build();
        assertEquals(288, small.dim());
        assertEquals(6, small.layers());
        assertEquals(6, small.heads());
        assertEquals(6, small.kvHeads());
        assertEquals(768, small.ffnHidden());
        assertEquals(32000, small.vocabSize());
        assertEquals(2048, small.contextLength());
        assertTrue(small.tiedOutput());
        // llamacpp-cpu-bench.md lists 15.19 M and 109.53 M parameters. 110M: 32000*768 embeddings +
        // 12 * (4*768*768 attention + 3*768*2048 FFN + 2*768 norms) + 768 output norm.
        assertEquals(15_191_712, small.parameterCount());
        SyntheticModel big = SyntheticModel.stories110M().build();
        assertEquals(768, big.dim());
        assertEquals(12, big.layers());
        assertEquals(12, big.heads());
        assertEquals(2048, big.ffnHidden());
        assertEquals(109_529_856, big.parameterCount());
    }

    @Test
    void theTokenizerCanBeCopiedFromALlamaCppVocabFile() {
        Path vocab = SharedData.file("tokenizer-vectors/ggml-vocab-llama-spm.gguf");
        Path p = dir.resolve("spm.gguf");
        SyntheticModel m = SyntheticModel.builder().tokenizerFrom(vocab).build();
        assertEquals(32000, m.vocabSize());
        m.write(p);
        try (GgufFile src = GgufFile.open(vocab); GgufFile g = GgufFile.open(p)) {
            assertEquals(src.get("tokenizer.ggml.tokens").orElseThrow(), g.get("tokenizer.ggml.tokens").orElseThrow());
            assertArrayEquals((float[]) src.get("tokenizer.ggml.scores").orElseThrow(),
                    (float[]) g.get("tokenizer.ggml.scores").orElseThrow());
            assertArrayEquals((int[]) src.get("tokenizer.ggml.token_type").orElseThrow(),
                    (int[]) g.get("tokenizer.ggml.token_type").orElseThrow());
            assertEquals(1L, g.getLong("tokenizer.ggml.bos_token_id").orElseThrow());
            assertEquals(true, g.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
            assertArrayEquals(new long[] {64, 32000}, g.requireTensor("token_embd.weight").dims());
        }
    }

    @Test
    void impossibleShapesAreRefusedNamingTheSetting() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().dim(60).heads(8).build()).getMessage().contains("dim 60"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().heads(4).kvHeads(3).build()).getMessage().contains("kvHeads 3"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().vocabSize(100).build()).getMessage().contains("at least 260"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().architecture("gpt2")).getMessage().contains("gemma3 or phi3"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().headDim(16).ropeDimension(18).build()).getMessage()
                .contains("rope dimension 18"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.builder().architecture("phi3").dim(64).heads(4).headDim(32).build()).getMessage()
                .contains("phi3's heads must fill dim"));
    }
}
