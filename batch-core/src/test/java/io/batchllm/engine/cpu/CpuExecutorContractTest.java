package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.EngineLimits;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.DeviceExecutorContract;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SyntheticModel;
import io.batchllm.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The {@code DeviceExecutor} contract on the CPU executor with two threads (so that the step's matmuls
 * and its sampling are split), and what is particular to the CPU: its cache's size, its suggested
 * limits, threads, loading files.
 */
class CpuExecutorContractTest extends DeviceExecutorContract {

    @Override
    protected DeviceExecutor newExecutor(ModelWeights weights) {
        return new CpuExecutor(weights, 2);
    }

    private final SyntheticModel model = SyntheticModel.llama().vocab(80).build();

    @Test
    void theCacheCostsTwoF32VectorsPerLayerAndTokenAndAQuarterOfTheHeap() {
        try (CpuExecutor ex = new CpuExecutor(model.weights(), 1)) {
            var c = model.weights().config();
            assertEquals(2L * c.blockCount() * c.kvDim() * 4, ex.kvBytesPerToken());
            assertEquals(Runtime.getRuntime().maxMemory() / 4, ex.defaults().kvCacheBytes());
        }
    }

    @Test
    void theCpuSuggests32SequencesInSteps512TokensLong() {
        try (CpuExecutor ex = new CpuExecutor(model.weights(), 1)) {
            assertEquals(EngineLimits.DEFAULT_MAX_SEQUENCES, ex.defaults().maxSequences());
            assertEquals(32, ex.defaults().maxSequences());
            assertEquals(512, ex.defaults().maxStepTokens());
        }
    }

    @Test
    void threadCountsBelowOneAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CpuExecutor(model.weights(), 0));
        assertEquals("threads must be at least 1, is 0", e.getMessage());
    }

    @Test
    void loadingAMissingFileNamesIt() {
        Path missing = SharedData.file("models/no-such-model.gguf");
        var e = assertThrows(ModelFormatException.class, () -> CpuExecutor.load(missing, 1));
        assertTrue(e.getMessage().contains("no-such-model.gguf"), e.getMessage());
    }

    @Test
    void loadingTheStoriesModelReportsItsConfig() {
        try (CpuExecutor stories = CpuExecutor.load(SharedData.file("models/stories260K.gguf"), 2)) {
            assertEquals(512, stories.config().vocabSize());
            assertEquals(2, stories.threads());
        }
    }
}
