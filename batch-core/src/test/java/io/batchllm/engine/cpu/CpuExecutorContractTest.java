package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.KvCache;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.engine.model.SyntheticModel;
import io.batchllm.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@code DeviceExecutor} contract as the CPU executor keeps it: input checks, caches, lifecycle. */
class CpuExecutorContractTest {

    private final SyntheticModel model = SyntheticModel.llama().vocab(80).build();
    private final CpuExecutor ex = new CpuExecutor(model.weights(), 1);

    @AfterEach
    void close() {
        ex.close();
    }

    @Test
    void aStepFillsTheCacheAndReturnsLogitsOnlyWhereAsked() {
        KvCache a = ex.newKvCache(16);
        KvCache b = ex.newKvCache(16);
        StepOutput out = ex.step(StepInput.of(new SequenceStep(a, 0, new int[] {1, 2, 3}, false),
                new SequenceStep(b, 0, new int[] {4}, true)));
        assertFalse(out.hasLogits(0));
        assertThrows(IllegalStateException.class, () -> out.logits(0));
        assertEquals(80, out.logits(1).length);
        assertEquals(3, a.length());
        assertEquals(1, b.length());
    }

    @Test
    void steppingFromAnEarlierPositionRewindsTheSequence() {
        KvCache kv = ex.newKvCache(16);
        ex.step(StepInput.of(SequenceStep.prefill(kv, new int[] {5, 6, 7, 8})));
        float[] rewound = ex.step(StepInput.of(SequenceStep.decode(kv, 2, 30))).logits(0);
        assertEquals(3, kv.length());

        KvCache fresh = ex.newKvCache(16);
        float[] direct = ex.step(StepInput.of(SequenceStep.prefill(fresh, new int[] {5, 6, 30}))).logits(0);
        assertArrayEquals(direct, rewound, 1e-5f);
    }

    @Test
    void aCacheGrowsPastItsInitialAllocationWithoutChangingResults() {
        // 200 positions force the cache past its first allocation; chunked vs one prefill must agree.
        SyntheticModel longer = SyntheticModel.llama().key("context_length", 256L).build();
        try (CpuExecutor big = new CpuExecutor(longer.weights(), 2)) {
            int[] prompt = new int[200];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 37) % 80;
            }
            KvCache whole = big.newKvCache(256);
            float[] expected = big.step(StepInput.of(SequenceStep.prefill(whole, prompt))).logits(0);
            KvCache chunked = big.newKvCache(256);
            float[] actual = null;
            for (int start = 0; start < prompt.length; start += 50) {
                int[] chunk = java.util.Arrays.copyOfRange(prompt, start, start + 50);
                actual = big.step(StepInput.of(new SequenceStep(chunked, start, chunk, true))).logits(0);
            }
            assertArrayEquals(expected, actual, 1e-4f);
        }
    }

    @Test
    void invalidStepsAreRejectedNamingTheSequenceAndLeaveCachesUntouched() {
        KvCache kv = ex.newKvCache(8);
        ex.step(StepInput.of(SequenceStep.prefill(kv, new int[] {1, 2})));

        assertRejected("sequence 1 of the step: position 5 is past the cache's 2 stored positions"
                        + " (positions must be contiguous)",
                StepInput.of(SequenceStep.decode(ex.newKvCache(8), 0, 1), SequenceStep.decode(kv, 5, 1)));
        assertRejected("sequence 0 of the step: token 1 has id 80, outside the vocabulary 0..79",
                StepInput.of(new SequenceStep(kv, 2, new int[] {3, 80}, true)));
        assertRejected("sequence 0 of the step: positions 2..9 exceed the cache's capacity 8",
                StepInput.of(new SequenceStep(kv, 2, new int[7], true)));
        assertRejected("sequence 1 of the step: its KV cache already appears earlier in the step",
                StepInput.of(SequenceStep.decode(kv, 2, 1), SequenceStep.decode(kv, 2, 1)));
        assertEquals(2, kv.length());

        try (CpuExecutor other = new CpuExecutor(model.weights(), 1)) {
            assertRejected("sequence 0 of the step: its KV cache was not created by this executor",
                    StepInput.of(SequenceStep.decode(other.newKvCache(8), 0, 1)));
        }
        kv.close();
        assertTrue(kv.isClosed());
        assertRejected("sequence 0 of the step: its KV cache is closed", StepInput.of(SequenceStep.decode(kv, 0, 1)));
    }

    private void assertRejected(String message, StepInput input) {
        var e = assertThrows(IllegalArgumentException.class, () -> ex.step(input));
        assertEquals(message, e.getMessage());
    }

    @Test
    void cacheSizesBeyondTheContextLengthAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> ex.newKvCache(65));
        assertEquals("maxTokens must be in 1..64 (the model's context_length), is 65", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ex.newKvCache(0));
    }

    @Test
    void aClosedExecutorRefusesWork() {
        KvCache kv = ex.newKvCache(4);
        ex.close();
        assertThrows(IllegalStateException.class, () -> ex.step(StepInput.of(SequenceStep.decode(kv, 0, 1))));
        assertThrows(IllegalStateException.class, () -> ex.newKvCache(4));
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
