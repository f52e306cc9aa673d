package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How the engine fails one request without stopping, and how it shuts down. */
class LocalEngineLifecycleTest {
    /** A token id that makes {@link GuardedExecutor} fail the step, standing in for a device fault. */
    private static final int POISON = 499;

    @Test
    void aStepThatThrowsFailsItsRequestWith500AndTheEngineGoesOn() throws Exception {
        GuardedExecutor executor = new GuardedExecutor(CpuExecutor.load(StoriesReference.MODEL, 1));
        try (LocalEngine engine = LocalEngine.builder("stories", executor, storiesTokenizer()).start()) {
            InferenceResult failed = engine.submit(Endpoint.COMPLETIONS,
                    "{\"model\":\"stories\",\"prompt\":[1," + POISON + "],\"max_tokens\":4}").get(30, TimeUnit.SECONDS);
            assertEquals(500, failed.statusCode());
            assertTrue(failed.body().contains("device fault for the test"), failed.body());
            assertEquals(0, engine.kvCacheStats().blocksInUse(), "the failed request's KV blocks were freed");

            StoriesReference ref = StoriesReference.onceUponATime();
            InferenceResult next = engine.submit(Endpoint.COMPLETIONS, Bodies.write(Bodies.greedy("stories",
                    ref.prompt(), 6))).get(30, TimeUnit.SECONDS);
            assertEquals(200, next.statusCode(), next.body());
            assertEquals(ref.firstPieces(6), Bodies.read(next.body()).at("/choices/0/text").asText());
            assertEquals(0, engine.kvCacheStats().blocksInUse(), "both requests' KV blocks were freed");
            assertTrue(engine.kvCacheStats().blocksFilled() >= 2, "each request had blocks");
        }
    }

    @Test
    void closeEndsUnfinishedRequestsExceptionallyAndClosesTheExecutor() throws Exception {
        GuardedExecutor executor = new GuardedExecutor(CpuExecutor.load(StoriesReference.MODEL, 1));
        executor.holdNextStep();
        LocalEngine engine = LocalEngine.builder("stories", executor, storiesTokenizer()).start();
        CompletableFuture<InferenceResult> running = engine.submit(Endpoint.COMPLETIONS,
                Bodies.write(Bodies.greedy("stories", "Once upon a time", 50)));
        assertTrue(executor.stepEntered.await(30, TimeUnit.SECONDS), "the engine started a step");

        Thread closer = Thread.ofPlatform().start(engine::close);
        // close() waits for the step in progress; let it end once close has been asked for
        while (closer.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
        executor.release.countDown();
        closer.join();

        ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
        assertTrue(executor.closed, "the engine closes its executor");
        assertEquals(0, engine.kvCacheStats().blocksInUse(), "the running sequence's blocks were freed");

        CompletableFuture<InferenceResult> late = engine.submit(Endpoint.COMPLETIONS,
                Bodies.write(Bodies.greedy("stories", "Once upon a time", 5)));
        assertThrows(ExecutionException.class, () -> late.get(5, TimeUnit.SECONDS));
        engine.close(); // idempotent
    }

    private static Tokenizer storiesTokenizer() {
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            return Tokenizer.fromGguf(f);
        }
    }

    /**
     * A CPU executor that fails steps holding {@link #POISON}, can hold a step until released, and
     * records closing.
     */
    private static final class GuardedExecutor extends ForwardingExecutor {
        final CountDownLatch stepEntered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private volatile boolean hold;
        volatile boolean closed;

        GuardedExecutor(CpuExecutor delegate) {
            super(delegate);
        }

        void holdNextStep() {
            hold = true;
        }

        @Override
        public StepHandle submit(StepPlan plan) {
            if (hold) {
                hold = false;
                stepEntered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (int e = 0; e < plan.entryCount(); e++) {
                for (int t = 0; !plan.isFeedback(e) && t < plan.tokenCount(e); t++) {
                    if (plan.token(e, t) == POISON) {
                        throw new IllegalStateException("device fault for the test");
                    }
                }
            }
            return delegate.submit(plan);
        }

        @Override
        public void close() {
            closed = true;
            delegate.close();
        }
    }
}
