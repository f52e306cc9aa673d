package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models the kernels do not implement are refused by name before anything reaches the device. */
class CudaModelSupportTest {
    @TempDir
    Path dir;

    private ModelConfig config(SyntheticModel.Builder model) {
        Path file = dir.resolve("m.gguf");
        model.dim(64).layers(2).heads(4).kvHeads(2).ffnHidden(128).vocabSize(300).build().write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            return ModelWeights.fromGguf(gguf).config();
        }
    }

    @Test
    void aPlainLlamaRunsOnTheKernels() {
        assertEquals(List.of(), CudaModelSupport.missing(config(SyntheticModel.builder())));
    }

    @Test
    void gemma2IsRefusedWithWhatItNeedsAndTheWayOut() {
        ModelConfig gemma = config(SyntheticModel.builder().architecture("gemma2").slidingWindow(8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaModelSupport.check(gemma, "gemma.gguf"));
        assertTrue(e.getMessage().startsWith("gemma.gguf needs architecture gemma2, sliding-window attention, "
                + "logit soft-capping"), e.getMessage());
        assertTrue(e.getMessage().endsWith("--backend cpu"), e.getMessage());
    }

    @Test
    void aMistralStyleWindowOnALlamaFileIsRefused() {
        assertEquals(List.of("sliding-window attention"),
                CudaModelSupport.missing(config(SyntheticModel.builder().slidingWindow(8))));
    }

    @Test
    void qwen3sQkNormIsRefused() {
        assertEquals(List.of("architecture qwen3"),
                CudaModelSupport.missing(config(SyntheticModel.builder().architecture("qwen3"))));
    }
}
