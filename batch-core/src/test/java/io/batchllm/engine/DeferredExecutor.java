package io.batchllm.engine;

import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import java.util.ArrayDeque;

/**
 * An asynchronous executor as the engine sees a GPU: {@link #submit} only queues a copy of the plan,
 * and a step runs (on the wrapped executor, in submission order) when its result is awaited or when
 * the step after it is awaited. So the engine always plans a step before it has seen the previous
 * one's samples, feeding them back blind, as it must with a device that is still running. Used by the
 * engine thread alone, like any executor.
 */
final class DeferredExecutor extends ForwardingExecutor {
    private final ArrayDeque<Deferred> queued = new ArrayDeque<>();
    /** Steps that were still queued when the engine planned a newer one: proof that it planned ahead. */
    int plannedAhead;

    DeferredExecutor(DeviceExecutor delegate) {
        super(delegate);
    }

    @Override
    public StepHandle submit(StepPlan plan) {
        if (!queued.isEmpty()) {
            plannedAhead++;
        }
        Deferred step = new Deferred(copy(plan));
        queued.add(step);
        return step;
    }

    private void runThrough(Deferred last) {
        while (!last.done) {
            Deferred next = queued.poll();
            try {
                next.result = delegate.submit(next.plan).await();
            } catch (RuntimeException e) {
                next.failure = e;
            }
            next.done = true;
        }
    }

    /** The plan as it was when submitted: the engine reuses its plan object for the next step. */
    private static StepPlan copy(StepPlan from) {
        StepPlan to = new StepPlan();
        for (int i = 0; i < from.releaseCount(); i++) {
            to.release(from.releasedSlot(i));
        }
        for (int i = 0; i < from.startCount(); i++) {
            to.start(from.started(i));
        }
        for (int e = 0; e < from.entryCount(); e++) {
            if (from.isFeedback(e)) {
                to.feedback(from.slot(e), from.position(e));
            } else {
                int[] tokens = new int[from.tokenCount(e)];
                for (int t = 0; t < tokens.length; t++) {
                    tokens[t] = from.token(e, t);
                }
                to.chunk(from.slot(e), from.position(e), tokens, 0, tokens.length, from.samples(e));
            }
            for (int b = 0; b < from.newBlockCount(e); b++) {
                to.addBlock(from.newBlock(e, b));
            }
            if (from.hasMask(e)) {
                long[] words = new long[from.maskLength(e)];
                from.copyMask(e, words, 0);
                to.mask(words);
            }
        }
        return to;
    }

    private final class Deferred implements StepHandle {
        final StepPlan plan;
        boolean done;
        StepResult result;
        RuntimeException failure;

        Deferred(StepPlan plan) {
            this.plan = plan;
        }

        @Override
        public boolean isDone() {
            return done;
        }

        @Override
        public StepResult await() {
            runThrough(this);
            if (failure != null) {
                throw failure;
            }
            return result;
        }
    }
}
