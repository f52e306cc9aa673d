package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.engine.model.SyntheticModel;
import io.batchllm.testing.SharedData;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@code DeviceExecutor} contract as the CPU executor keeps it: input checks, paged cache, lifecycle. */
class CpuExecutorContractTest {

    private final SyntheticModel model = SyntheticModel.llama().vocab(80).build();
    private final CpuExecutor ex = new CpuExecutor(model.weights(), 1);

    @AfterEach
    void close() {
        ex.close();
    }

    /** Blocks {@code first, first+1, …}: {@code count} of them. */
    private static int[] blocks(int first, int count) {
        int[] table = new int[count];
        for (int i = 0; i < count; i++) {
            table[i] = first + i;
        }
        return table;
    }

    @Test
    void aStepReturnsLogitsOnlyWhereAsked() {
        ex.allocateKvCache(new KvLayout(4, 8));
        StepOutput out = ex.step(StepInput.of(new SequenceStep(blocks(0, 1), 0, new int[] {1, 2, 3}, false),
                new SequenceStep(blocks(1, 1), 0, new int[] {4}, true)));
        assertFalse(out.hasLogits(0));
        assertThrows(IllegalStateException.class, () -> out.logits(0));
        assertEquals(80, out.logits(1).length);
    }

    @Test
    void steppingFromAnEarlierPositionRewindsTheSequence() {
        ex.allocateKvCache(new KvLayout(4, 8));
        ex.step(StepInput.of(SequenceStep.prefill(blocks(0, 2), new int[] {5, 6, 7, 8})));
        float[] rewound = ex.step(StepInput.of(SequenceStep.decode(blocks(0, 2), 2, 30))).logits(0);

        float[] direct = ex.step(StepInput.of(SequenceStep.prefill(blocks(2, 1), new int[] {5, 6, 30}))).logits(0);
        assertArrayEquals(direct, rewound, 1e-5f);
    }

    @Test
    void whereTheBlocksLieAndHowThePromptIsChunkedDoNotChangeTheResult() {
        SyntheticModel longer = SyntheticModel.llama().key("context_length", 256L).build();
        try (CpuExecutor big = new CpuExecutor(longer.weights(), 2)) {
            big.allocateKvCache(new KvLayout(16, 32));
            int[] prompt = new int[200];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 37) % 80;
            }
            float[] expected = big.step(StepInput.of(SequenceStep.prefill(blocks(0, 13), prompt))).logits(0);
            // the same sequence in blocks 31, 29, 27, …, fed in chunks of 40 that end mid-block. The
            // tolerance covers only the matmul kernels, whose lane reductions may round differently before
            // and after the JIT compiles them; attention itself sums in a fixed order.
            int[] scattered = new int[13];
            for (int i = 0; i < scattered.length; i++) {
                scattered[i] = 31 - 2 * i;
            }
            float[] actual = null;
            for (int start = 0; start < prompt.length; start += 40) {
                int[] chunk = Arrays.copyOfRange(prompt, start, start + 40);
                actual = big.step(StepInput.of(new SequenceStep(scattered, start, chunk, true))).logits(0);
            }
            assertArrayEquals(expected, actual, 1e-5f);
        }
    }

    @Test
    void aSequenceReadsPrefixBlocksAnotherSequenceWroteInAnEarlierStep() {
        ex.allocateKvCache(new KvLayout(4, 8));
        int[] prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5};
        float[] alone = ex.step(StepInput.of(SequenceStep.prefill(blocks(0, 3), prompt))).logits(0);
        // a second sequence shares blocks 0 and 1 (positions 0..7) and computes only the last token
        float[] shared = ex.step(StepInput.of(new SequenceStep(new int[] {0, 1, 5}, 8, new int[] {5}, true)))
                .logits(0);
        assertArrayEquals(alone, shared, 1e-6f);
    }

    @Test
    void invalidStepsAreRejectedNamingTheSequence() {
        ex.allocateKvCache(new KvLayout(4, 8));
        assertRejected("sequence 1 of the step: positions 0..5 need 2 blocks of 4 but its block table has 1",
                StepInput.of(SequenceStep.decode(blocks(0, 1), 0, 1), SequenceStep.prefill(blocks(1, 1), new int[5])));
        assertRejected("sequence 0 of the step: block table entry 1 is 8, outside the cache's blocks 0..7",
                StepInput.of(SequenceStep.prefill(new int[] {0, 8}, new int[5])));
        assertRejected("sequence 0 of the step: token 1 has id 80, outside the vocabulary 0..79",
                StepInput.of(new SequenceStep(blocks(0, 1), 2, new int[] {3, 80}, true)));
        assertRejected("sequence 1 of the step: it writes block 0, which sequence 0 of the step also writes",
                StepInput.of(SequenceStep.decode(blocks(0, 1), 1, 1), SequenceStep.decode(blocks(0, 1), 2, 1)));
        assertRejected("sequence 1 of the step: it reads block 0, which sequence 0 of the step writes",
                StepInput.of(SequenceStep.decode(blocks(0, 1), 3, 1), SequenceStep.decode(new int[] {0, 1}, 4, 1)));
    }

    private void assertRejected(String message, StepInput input) {
        var e = assertThrows(IllegalArgumentException.class, () -> ex.step(input));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aStepBeforeTheCacheIsAllocatedIsRefused() {
        var e = assertThrows(IllegalStateException.class,
                () -> ex.step(StepInput.of(SequenceStep.decode(blocks(0, 1), 0, 1))));
        assertEquals("no KV cache: call allocateKvCache before the first step", e.getMessage());
        assertNull(ex.kvLayout());
        ex.allocateKvCache(new KvLayout(16, 2));
        assertEquals(new KvLayout(16, 2), ex.kvLayout());
    }

    @Test
    void theCacheCostsTwoF32VectorsPerLayerAndToken() {
        var c = model.weights().config();
        assertEquals(2L * c.blockCount() * c.kvDim() * 4, ex.kvBytesPerToken());
        assertTrue(ex.defaultKvCacheBytes() > 0);
    }

    @Test
    void aClosedExecutorRefusesWork() {
        ex.allocateKvCache(new KvLayout(4, 1));
        ex.close();
        assertThrows(IllegalStateException.class,
                () -> ex.step(StepInput.of(SequenceStep.decode(blocks(0, 1), 0, 1))));
        assertThrows(IllegalStateException.class, () -> ex.allocateKvCache(new KvLayout(4, 1)));
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
