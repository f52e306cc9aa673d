package io.batchllm.engine;

import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.spi.InferenceResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine thread's work: continuous batching over one {@link DeviceExecutor}. Each iteration takes
 * the newly submitted requests, admits waiting choices while there is room (a free sequence slot and
 * step-token budget), runs ONE step over every running choice (whole prompts for the new ones, one
 * token for the others), samples each choice's next token and retires the choices that finished.
 *
 * <p>Everything here but the inbox belongs to the engine thread, which is also the only thread that
 * touches the executor, as {@link DeviceExecutor} requires.
 *
 * <p>Failures stay as small as they can: a choice whose sampling throws fails its request only; a step
 * that throws fails the requests that were in it; the loop itself keeps going.
 */
final class GenerationLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(GenerationLoop.class);

    private final String modelName;
    private final DeviceExecutor executor;
    private final EngineLimits limits;
    /** Requests from submitting threads, plus {@link Admission#WAKE_UP}; the only state shared with them. */
    private final BlockingQueue<Admission> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<SequenceState> waiting = new ArrayDeque<>();
    private final List<SequenceState> running = new ArrayList<>();
    private volatile boolean stopping;
    /** Set when the loop has ended; guarded by {@code this}, so that no request is queued after the last drain. */
    private boolean ended;

    /** A submitted request's choices, as handed from the submitting thread to the loop. */
    record Admission(List<SequenceState> choices) {
        /** Put in the inbox by {@link #stop()} to wake an idle loop. */
        static final Admission WAKE_UP = new Admission(List.of());
    }

    GenerationLoop(String modelName, DeviceExecutor executor, EngineLimits limits) {
        this.modelName = modelName;
        this.executor = executor;
        this.limits = limits;
    }

    /**
     * Queues a request for the loop.
     *
     * @return false if the loop has ended (closed, or stopped by an unexpected error): nobody would run it
     */
    synchronized boolean offer(Admission admission) {
        if (ended || stopping) {
            return false;
        }
        inbox.add(admission);
        return true;
    }

    /** Asks the loop to end after its current step; the caller then joins the thread. */
    void stop() {
        stopping = true;
        inbox.add(Admission.WAKE_UP);
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                if (running.isEmpty() && waiting.isEmpty()) {
                    take(inbox.take());
                }
                drainInbox();
                admit();
                if (!running.isEmpty()) {
                    step();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            log.error("the engine loop of model {} stopped unexpectedly", modelName, e);
            throw e;
        } finally {
            abandonAll();
        }
    }

    private void drainInbox() {
        for (Admission a; (a = inbox.poll()) != null; ) {
            take(a);
        }
    }

    private void take(Admission a) {
        waiting.addAll(a.choices());
    }

    /**
     * Admits waiting choices in arrival order while a sequence slot is free and the step's tokens stay
     * within budget. The first prompt of a step is admitted even when it alone exceeds the budget, so a
     * long prompt is prefilled whole instead of waiting forever.
     */
    private void admit() {
        int stepTokens = running.size();
        boolean prefillAdmitted = false;
        while (!waiting.isEmpty() && running.size() < limits.maxSequences()) {
            SequenceState next = waiting.peek();
            if (next.owner().isDone()) {
                waiting.poll(); // its request failed while this choice waited
                continue;
            }
            if (prefillAdmitted && stepTokens + next.promptLength() > limits.maxStepTokens()) {
                return;
            }
            waiting.poll();
            try {
                next.start(executor.newKvCache(next.cacheCapacity()));
            } catch (RuntimeException e) {
                failRequest(next.owner(), e);
                continue;
            }
            running.add(next);
            stepTokens += next.promptLength();
            prefillAdmitted = true;
        }
    }

    private void step() {
        List<SequenceState> batch = List.copyOf(running);
        List<SequenceStep> steps = new ArrayList<>(batch.size());
        for (SequenceState s : batch) {
            steps.add(s.nextStep());
        }
        StepOutput out;
        try {
            out = executor.step(new StepInput(steps));
        } catch (RuntimeException e) {
            for (SequenceState s : batch) {
                failRequest(s.owner(), e);
            }
            retire();
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            SequenceState s = batch.get(i);
            if (s.owner().isDone()) {
                continue; // a sibling choice failed its request earlier in this loop
            }
            try {
                s.stepDone();
                if (s.accept(s.sample(out.logits(i)))) {
                    s.release(); // before the future completes: a finished request holds no memory
                    s.owner().choiceFinished(s.choiceIndex(), s.output());
                }
            } catch (RuntimeException e) {
                failRequest(s.owner(), e);
            }
        }
        retire();
    }

    /** Drops finished choices, and choices of failed requests, from the running set, freeing their caches. */
    private void retire() {
        running.removeIf(s -> {
            boolean over = s.output() != null || s.owner().isDone();
            if (over) {
                s.release();
            }
            return over;
        });
    }

    private void failRequest(RequestState request, RuntimeException e) {
        if (request.isDone()) {
            return;
        }
        log.error("model {}: a request failed in the engine", modelName, e);
        for (SequenceState s : running) {
            if (s.owner() == request) {
                s.release();
            }
        }
        request.fail(InferenceResult.error(500, "server_error", "engine_error", null,
                "the engine failed on this request (model " + modelName + "): " + e));
    }

    /** On the way out: frees every cache and ends every request that did not finish. */
    private void abandonAll() {
        synchronized (this) {
            ended = true;
        }
        drainInbox();
        IllegalStateException closed = new IllegalStateException("the engine of model " + modelName
                + " was closed before this request finished");
        for (SequenceState s : running) {
            s.release();
            s.owner().abandon(closed);
        }
        for (SequenceState s : waiting) {
            s.owner().abandon(closed);
        }
        running.clear();
        waiting.clear();
    }
}
