package io.batchllm.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.testing.SharedData;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    private static final Path STORIES = SharedData.file("models/stories260K.gguf");

    @Test
    void readsTheStoriesModelAsItsReadmeDescribesIt() {
        try (GgufFile g = GgufFile.open(STORIES)) {
            assertEquals(3, g.version());
            assertEquals(19, g.metadata().size());
            assertEquals(48, g.tensors().size());
            assertEquals("llama", g.requireString("general.architecture"));
            assertEquals(64, g.requireInt("llama.embedding_length"));
            assertEquals(4, g.requireInt("llama.attention.head_count_kv"));
            assertEquals(1e-5, g.requireDouble("llama.attention.layer_norm_rms_epsilon"), 1e-9);
            @SuppressWarnings("unchecked")
            List<String> tokens = (List<String>) g.get("tokenizer.ggml.tokens").orElseThrow();
            assertEquals(512, tokens.size());
            assertEquals("<s>", tokens.get(1));
            assertInstanceOf(float[].class, g.get("tokenizer.ggml.scores").orElseThrow());
            // The "none" id is u32 0xFFFFFFFF and must not come back negative.
            assertEquals(0xFFFFFFFFL, g.getLong("tokenizer.ggml.padding_token_id").orElseThrow());

            GgufTensor embd = g.requireTensor("token_embd.weight");
            assertEquals(GgmlType.F32, embd.type());
            assertArrayEquals(new long[] {64, 512}, embd.dims());
            assertEquals(512, embd.rowCount());
            assertEquals(64 * 512 * 4, embd.data().byteSize());
        }
    }

    @Test
    void tensorDataIsTheFileBytesAtTheAlignedDataOffset() throws Exception {
        byte[] raw = Files.readAllBytes(STORIES);
        try (GgufFile g = GgufFile.open(STORIES)) {
            GgufTensor first = g.tensors().values().iterator().next();
            // README: data starts at byte 14176 and the first tensor sits at offset 0 of it.
            float expected = ByteBuffer.wrap(raw, 14176, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            assertEquals(expected, first.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
        }
    }

    @Test
    void refusesAFileThatIsNotGguf(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("model.gguf");
        Files.writeString(p, "definitely not a model");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void refusesATruncatedFileNamingTheTensor(@TempDir Path dir) throws Exception {
        byte[] raw = Files.readAllBytes(STORIES);
        Path p = dir.resolve("cut.gguf");
        Files.write(p, java.util.Arrays.copyOf(raw, raw.length - 1000));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor '"), e.getMessage());
    }

    @Test
    void refusesAFileCutInsideItsMetadata(@TempDir Path dir) throws Exception {
        byte[] raw = Files.readAllBytes(STORIES);
        Path p = dir.resolve("cut.gguf");
        Files.write(p, java.util.Arrays.copyOf(raw, 300));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("metadata"), e.getMessage());
    }

    @Test
    void refusesAnUnsupportedVersion(@TempDir Path dir) throws Exception {
        byte[] raw = Files.readAllBytes(STORIES);
        raw[4] = 7;
        Path p = dir.resolve("v7.gguf");
        Files.write(p, raw);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("version 7"), e.getMessage());
    }

    @Test
    void aMissingFileIsAClearError() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> GgufFile.open(Path.of("/nonexistent/model.gguf")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
}
