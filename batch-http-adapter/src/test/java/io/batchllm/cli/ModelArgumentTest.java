package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.modelfiles.ModelLocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --model} values: paths, and references resolved in a fake LM Studio folder and Hugging Face cache. */
class ModelArgumentTest {
    @TempDir
    Path home;

    private ModelArgument convert(String value) {
        return new ModelArgument.Converter(ModelLocator.of(home, Map.of())).convert(value);
    }

    @Test
    void aReferenceWithoutANameIsNamedByItselfAndOneWithANameByThatName() throws IOException {
        Path file = home.resolve(".lmstudio/models/lmstudio-community/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "GGUF");
        assertEquals(new ModelArgument("lmstudio:lmstudio-community/Qwen3-0.6B-GGUF", file),
                convert("lmstudio:lmstudio-community/Qwen3-0.6B-GGUF"));
        assertEquals(new ModelArgument("qwen", file), convert("qwen=lmstudio:lmstudio-community/Qwen3-0.6B-GGUF"));
        assertEquals(new ModelArgument("llama", Path.of("models/llama.gguf")), convert("llama=models/llama.gguf"));
    }

    @Test
    void aMissingReferenceIsAConversionErrorSayingWhereItLooked() {
        CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class,
                () -> convert("qwen=hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf"));
        assertTrue(e.getMessage().contains(home.resolve(".cache/huggingface/hub/models--Qwen--Qwen3-0.6B-GGUF")
                .toString()), e.getMessage());
        CommandLine.TypeConversionException bare = assertThrows(CommandLine.TypeConversionException.class,
                () -> convert("llama.gguf"));
        assertTrue(bare.getMessage().contains("ollama:MODEL[:TAG]"), bare.getMessage());
    }
}
