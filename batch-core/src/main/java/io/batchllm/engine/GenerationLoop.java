package io.batchllm.engine;

import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvCacheStats;
import io.batchllm.engine.kv.KvSequence;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.engine.openai.RequestException;
import io.batchllm.engine.sampling.SampledToken;
import io.batchllm.spi.InferenceResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine thread's work: continuous batching over one {@link DeviceExecutor} with a paged KV cache.
 * Each iteration takes the newly submitted requests and plans ONE step within the step-token budget,
 * as vLLM's scheduler does: first one token for every running choice that is generating, then the next
 * chunk of every running choice still reading its prompt, then new choices admitted in arrival order
 * while a sequence slot, budget and KV blocks are free, each with its first prompt chunk. It runs the
 * step, samples a token for every choice whose step produced logits, and retires the finished ones,
 * whose blocks go back to the pool at once; so sequences join and leave at every step.
 *
 * <p><b>Admission never over-commits the KV cache.</b> A choice is admitted only when the
 * {@link KvBlockPool} reserves every block it can need (prompt plus {@code max_tokens}, within the
 * context); otherwise it, and everything behind it, waits for running choices to finish. A choice
 * that could not fit even in the empty cache fails at once with a 400 naming
 * {@value EngineLimits#KV_CACHE_TOKENS_OPTION}. With prefix sharing, a choice whose prompt starts like
 * one being computed waits for those blocks instead of computing them again.
 *
 * <p>Everything here but the inbox belongs to the engine thread, which is also the only thread that
 * touches the executor, as {@link DeviceExecutor} requires.
 *
 * <p>Failures stay as small as they can: a choice whose sampling throws fails its request only; a step
 * that throws (running out of stack or heap included) fails the requests that were in it; the loop
 * itself keeps going.
 */
final class GenerationLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(GenerationLoop.class);

    private final String modelName;
    private final DeviceExecutor executor;
    private final EngineLimits limits;
    private final KvBlockPool pool;
    /** Requests from submitting threads, plus {@link Admission#WAKE_UP}; the only state shared with them. */
    private final BlockingQueue<Admission> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<SequenceState> waiting = new ArrayDeque<>();
    private final List<SequenceState> running = new ArrayList<>();
    private volatile boolean stopping;
    /** The pool's counters after the last step, for other threads to read. */
    private volatile KvCacheStats kvStats;
    /** Tokens sampled since start; written by the engine thread only, read by any. */
    private volatile long generatedTokens;
    /** Set when the loop has ended; guarded by {@code this}, so that no request is queued after the last drain. */
    private boolean ended;

    /** A submitted request's choices, as handed from the submitting thread to the loop. */
    record Admission(List<SequenceState> choices) {
        /** Put in the inbox by {@link #stop()} to wake an idle loop. */
        static final Admission WAKE_UP = new Admission(List.of());
    }

    /** @param pool hands out the blocks of the cache that {@code executor} has allocated */
    GenerationLoop(String modelName, DeviceExecutor executor, EngineLimits limits, KvBlockPool pool) {
        this.modelName = modelName;
        this.executor = executor;
        this.limits = limits;
        this.pool = pool;
        this.kvStats = pool.stats();
    }

    /**
     * The KV block pool's counters, published after each step and before any future completes, so a
     * caller that saw its result sees the blocks it freed. Any thread.
     */
    KvCacheStats kvStats() {
        return kvStats;
    }

    /** Tokens sampled since the loop started, for every choice, finished or not. Any thread. */
    long generatedTokens() {
        return generatedTokens;
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
                List<SequenceState> batch = new ArrayList<>();
                List<SequenceStep> steps = new ArrayList<>();
                plan(batch, steps);
                if (!steps.isEmpty()) {
                    step(batch, steps);
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
     * Fills {@code batch} and {@code steps} with the next step's work within the token budget:
     * decodes first, then the running prompts' next chunks, then newly admitted choices.
     */
    private void plan(List<SequenceState> batch, List<SequenceStep> steps) {
        int budget = limits.maxStepTokens();
        for (SequenceState s : running) {
            if (budget > 0 && s.isPrefilled()) {
                add(s, budget, batch, steps);
                budget--;
            }
        }
        for (SequenceState s : running) {
            if (budget > 0 && !s.isPrefilled()) {
                budget -= add(s, budget, batch, steps);
            }
        }
        while (budget > 0 && running.size() < limits.maxSequences() && !waiting.isEmpty()) {
            SequenceState next = waiting.peek();
            if (next.owner().isDone()) {
                waiting.poll(); // its request failed while this choice waited
                continue;
            }
            KvSequence kv;
            try {
                kv = reserve(next);
            } catch (RequestException e) {
                waiting.poll();
                next.owner().fail(e.toResult());
                continue;
            }
            if (kv == null) {
                return; // it waits for blocks (or a shared prefix), and everything behind it keeps its turn
            }
            waiting.poll();
            next.start(pool, kv);
            next.owner().promptCached(kv.cachedTokens());
            running.add(next);
            budget -= add(next, budget, batch, steps);
        }
    }

    /** The choice's blocks, null if it must wait; a 400 if it can never fit the cache. */
    private KvSequence reserve(SequenceState s) {
        int tokens = s.cacheCapacity();
        if (!pool.fits(tokens)) {
            throw new RequestException(null, "kv_cache_too_small", "this request needs " + tokens
                    + " KV cache positions (prompt " + s.promptLength() + " tokens plus max_tokens, within the context)"
                    + " but the KV cache of model " + modelName + " holds only " + pool.layout().tokens()
                    + "; lower max_tokens, or raise the backend option " + EngineLimits.KV_CACHE_TOKENS_OPTION);
        }
        return pool.allocate(s.owner().promptTokens(), tokens);
    }

    /** Adds the choice's next work of at most {@code budget} tokens; returns its token count. */
    private static int add(SequenceState s, int budget, List<SequenceState> batch, List<SequenceStep> steps) {
        SequenceStep step = s.nextStep(budget);
        batch.add(s);
        steps.add(step);
        return step.tokenCount();
    }

    private void step(List<SequenceState> batch, List<SequenceStep> steps) {
        StepOutput out;
        try {
            out = executor.step(new StepInput(steps));
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            for (SequenceState s : batch) {
                failRequest(s.owner(), e);
            }
            retire();
            kvStats = pool.stats();
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            SequenceState s = batch.get(i);
            if (s.owner().isDone()) {
                continue; // a sibling choice failed its request earlier in this loop
            }
            try {
                if (!s.stepDone(steps.get(i))) {
                    continue; // a prompt chunk that is not the prompt's last: no token yet
                }
                SampledToken token = s.sample(out.logits(i));
                generatedTokens++; // the engine thread is the only writer
                if (s.accept(token)) {
                    s.release(); // before the future completes: a finished request holds no memory
                    kvStats = pool.stats();
                    s.owner().choiceFinished(s.choiceIndex(), s.output());
                }
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                failRequest(s.owner(), e);
            }
        }
        retire();
        kvStats = pool.stats();
    }

    /** Drops finished choices, and choices of failed requests, from the running set, freeing their blocks. */
    private void retire() {
        running.removeIf(s -> {
            boolean over = s.output() != null || s.owner().isDone();
            if (over) {
                s.release();
            }
            return over;
        });
    }

    private void failRequest(RequestState request, Throwable e) {
        if (request.isDone()) {
            return;
        }
        log.error("model {}: a request failed in the engine", modelName, e);
        for (SequenceState s : running) {
            if (s.owner() == request) {
                s.release();
            }
        }
        kvStats = pool.stats();
        request.fail(InferenceResult.error(500, "server_error", "engine_error", null,
                "the engine failed on this request (model " + modelName + "): " + e));
    }

    /** On the way out: frees every block and ends every request that did not finish. */
    private void abandonAll() {
        synchronized (this) {
            ended = true;
        }
        drainInbox();
        IllegalStateException closed = new IllegalStateException("the engine of model " + modelName
                + " was closed before this request finished");
        for (SequenceState s : running) {
            s.release();
        }
        kvStats = pool.stats();
        for (SequenceState s : running) {
            s.owner().abandon(closed);
        }
        for (SequenceState s : waiting) {
            s.owner().abandon(closed);
        }
        running.clear();
        waiting.clear();
    }
}
