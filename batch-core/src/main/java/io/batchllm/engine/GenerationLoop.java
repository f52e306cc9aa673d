package io.batchllm.engine;

import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvCacheStats;
import io.batchllm.engine.kv.KvSequence;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.openai.RequestException;
import io.batchllm.spi.InferenceResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine thread's work: continuous batching over one {@link DeviceExecutor} with a paged KV cache.
 * Each iteration processes the steps the device has finished, then plans ONE step within the
 * step-token budget, as vLLM's scheduler does: first one token for every running choice that is
 * generating, then the next chunk of every running choice still reading its prompt, then new choices
 * admitted in order while a sequence slot, budget and KV blocks are free, each with its first prompt
 * chunk. So sequences join and leave at every step.
 *
 * <p><b>Asynchronous steps.</b> A generating choice's next step feeds back the token the device
 * sampled in its previous step, so the next step can be planned and submitted before the previous
 * one's result is back: up to {@value #MAX_STEPS_IN_FLIGHT} steps are in flight, and the host
 * detokenizes, retires and plans while the device works. A choice that turns out to have finished
 * (an end token, a stop string) has one extra token computed and discarded; the scheduler never asks
 * for a sample beyond {@code max_tokens} or the context. With an executor that runs steps before
 * {@code submit} returns (the CPU), every result is processed before the next step is planned.
 *
 * <p><b>KV blocks on demand, preemption.</b> A choice is admitted with the blocks of the positions it
 * computes at once (its prompt), when the {@link KvBlockPool} has them and keeps one spare block per
 * running choice; it takes another block each time it generates past the last one. When the pool has
 * none left, the youngest running choice is preempted: its blocks and slot are given back and it goes
 * to the front of the queue with the tokens it generated, to be recomputed later (its prompt prefix
 * is often still cached). Its output does not change (see {@link SequenceState}). The oldest choice
 * is never preempted for a younger one, so it always progresses. A choice whose prompt plus
 * {@code max_tokens} (or the context, without one) could not fit even the empty cache fails at once
 * with a 400 naming {@value EngineLimits#KV_CACHE_TOKENS_OPTION}. With prefix sharing, a choice whose
 * prompt starts like one being computed waits for those blocks instead of computing them again.
 *
 * <p><b>Structured outputs.</b> A constrained choice's every sample carries a token mask, written
 * from its grammar cursor when the entry is planned; since the mask depends on the token before it, a
 * constrained choice is planned one sample at a time (never ahead of a result it has not seen). On the
 * CPU, which runs each step inside {@code submit}, that changes nothing; on a device with steps in
 * flight a constrained choice runs every other step.
 *
 * <p>Everything here but the inbox and the published counters belongs to the engine thread, which is
 * also the only thread that touches the executor, as {@link DeviceExecutor} requires.
 *
 * <p>Failures stay as small as they can: a choice whose sampling failed fails its request only; a step
 * that throws (running out of stack or heap included) fails the requests that were in it; the loop
 * itself keeps going.
 */
final class GenerationLoop implements Runnable {
    /** Steps submitted and not yet processed, at most: one on the device while the host plans the next. */
    static final int MAX_STEPS_IN_FLIGHT = 2;

    private static final Logger log = LoggerFactory.getLogger(GenerationLoop.class);

    private final String modelName;
    private final DeviceExecutor executor;
    private final EngineLimits limits;
    private final KvBlockPool pool;
    /** The constrained choices' grammars, matched against this model's vocabulary. */
    private final GrammarMatchers grammars;
    /** Requests from submitting threads, plus {@link Admission#WAKE_UP}; the only state shared with them. */
    private final BlockingQueue<Admission> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<SequenceState> waiting = new ArrayDeque<>();
    /** Running choices in the order they were admitted: the youngest, preempted first, is last. */
    private final List<SequenceState> running = new ArrayList<>();
    private final StepPlan plan = new StepPlan();
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final ArrayDeque<InFlight> spare = new ArrayDeque<>();
    private final int[] freeSlots;
    private int freeSlotCount;
    /** Slots given back since the last submitted plan, for the next one to release. */
    private int[] releases = new int[8];
    private int releaseCount;
    private volatile boolean stopping;
    /** The pool's counters after the last step, for other threads to read. */
    private volatile KvCacheStats kvStats;
    /** Choices preempted so far; written by the engine thread only. */
    private volatile long preemptions;
    /** Tokens sampled since start; written by the engine thread only, read by any. */
    private volatile long generatedTokens;
    /** Set when the loop has ended; guarded by {@code this}, so that no request is queued after the last drain. */
    private boolean ended;

    /** A submitted request's choices, as handed from the submitting thread to the loop. */
    record Admission(List<SequenceState> choices) {
        /** Put in the inbox by {@link #stop()} to wake an idle loop. */
        static final Admission WAKE_UP = new Admission(List.of());
    }

    /**
     * @param limits resolved limits (no automatic sizes)
     * @param pool hands out the blocks of the cache that {@code executor} has allocated, with
     *     {@code limits.maxSequences()} slots
     */
    GenerationLoop(String modelName, DeviceExecutor executor, EngineLimits limits, KvBlockPool pool,
            GrammarMatchers grammars) {
        this.modelName = modelName;
        this.executor = executor;
        this.limits = limits;
        this.pool = pool;
        this.grammars = grammars;
        this.kvStats = pool.stats();
        this.freeSlots = new int[limits.maxSequences()];
        for (int s = limits.maxSequences() - 1; s >= 0; s--) {
            freeSlots[freeSlotCount++] = s;
        }
    }

    /**
     * The KV block pool's counters, published after each step and before any future completes, so a
     * caller that saw its result sees the blocks it freed. Any thread.
     */
    KvCacheStats kvStats() {
        return kvStats;
    }

    /** Choices preempted (and recomputed later) for lack of KV blocks, since the start. Any thread. */
    long preemptions() {
        return preemptions;
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
                if (running.isEmpty() && waiting.isEmpty() && inFlight.isEmpty()) {
                    take(inbox.take());
                }
                drainInbox();
                while (!inFlight.isEmpty() && inFlight.peek().handle.isDone()) {
                    complete(inFlight.poll());
                }
                boolean submitted = planAndSubmit();
                if (!inFlight.isEmpty() && (!submitted || inFlight.size() >= MAX_STEPS_IN_FLIGHT)) {
                    complete(inFlight.poll());
                } else if (!submitted && !(running.isEmpty() && waiting.isEmpty())) {
                    throw new IllegalStateException("the scheduler could not plan a step for " + running.size()
                            + " running and " + waiting.size() + " waiting choices, with nothing in flight");
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
        for (SequenceState s : a.choices()) {
            var constraint = s.owner().constraint();
            if (constraint != null && !s.isOver()) {
                ToolCalling tools = s.owner().tools();
                try {
                    s.constrain(grammars.newCursor(constraint), tools == null ? -1 : tools.leadingToken());
                } catch (IllegalStateException e) {
                    failRequest(s.owner(), e);
                }
            }
        }
        waiting.addAll(a.choices());
    }

    /**
     * Plans the next step (decodes, then the running prompts' next chunks, then newly admitted choices)
     * and submits it.
     *
     * @return whether a step was submitted (or failed trying)
     */
    private boolean planAndSubmit() {
        plan.clear();
        InFlight step = spare.isEmpty() ? new InFlight() : spare.poll();
        step.clear();
        int budget = limits.maxStepTokens();
        // running.size() shrinks when the youngest choices are preempted for blocks
        for (int i = 0; i < running.size() && budget > 0; i++) {
            SequenceState s = running.get(i);
            if (s.isPrefilled() && s.wantsAnotherSample() && addDecode(s, step)) {
                budget--;
            }
        }
        for (int i = 0; i < running.size() && budget > 0; i++) {
            SequenceState s = running.get(i);
            if (!s.isPrefilled()) {
                budget -= addChunk(s, budget, step);
            }
        }
        while (budget > 0 && freeSlotCount > 0 && !waiting.isEmpty()) {
            SequenceState next = waiting.peek();
            if (next.isOver()) {
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
                break; // it waits for blocks (or a shared prefix), and everything behind it keeps its turn
            }
            waiting.poll();
            plan.start(next.start(freeSlots[--freeSlotCount], kv));
            running.add(next);
            budget -= addChunk(next, budget, step);
        }
        if (plan.entryCount() == 0) {
            spare.add(step);
            return false;
        }
        for (int i = 0; i < releaseCount; i++) {
            plan.release(releases[i]);
        }
        try {
            step.handle = executor.submit(plan);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // the releases stay queued: the executor may not have applied them (releasing twice is harmless)
            failMembers(step, e);
            spare.add(step);
            return true;
        }
        releaseCount = 0;
        inFlight.add(step);
        return true;
    }

    /**
     * Adds one feedback decode for {@code s}, taking a block first if its next position needs one.
     *
     * @return false if {@code s} itself was preempted for want of a block
     */
    private boolean addDecode(SequenceState s, InFlight step) {
        int end = s.scheduled() + 1;
        int before = s.kv().blockCount();
        while (!pool.grow(s.kv(), end)) {
            SequenceState victim = running.getLast();
            preempt(victim);
            if (victim == s) {
                return false;
            }
        }
        plan.feedback(s.slot(), s.scheduled());
        for (int b = before; b < s.kv().blockCount(); b++) {
            plan.addBlock(s.kv().block(b));
        }
        mask(s);
        s.planned(end, true);
        step.add(s, end, true);
        return true;
    }

    /** Adds the choice's next chunk of at most {@code budget} tokens (its blocks are held); returns its size. */
    private int addChunk(SequenceState s, int budget, InFlight step) {
        int[] tokens = s.computeTokens();
        int from = s.scheduled();
        int to = Math.min(tokens.length, from + budget);
        boolean sample = to == tokens.length;
        plan.chunk(s.slot(), from, tokens, from, to, sample);
        if (sample) {
            mask(s);
        }
        s.planned(to, sample);
        step.add(s, to, sample);
        return to - from;
    }

    /** Restricts the sample of the entry just planned for a constrained choice to what its grammar allows. */
    private void mask(SequenceState s) {
        if (s.isConstrained()) {
            long[] words = grammars.maskBuffer();
            s.writeMask(words);
            plan.mask(words);
        }
    }

    /** The choice's blocks, null if it must wait; a 400 if it can never fit the cache. */
    private KvSequence reserve(SequenceState s) {
        int tokens = s.maxPositions();
        if (!pool.fits(tokens)) {
            throw new RequestException(null, "kv_cache_too_small", "this request needs " + tokens
                    + " KV cache positions (prompt " + s.promptLength() + " tokens plus max_tokens, within the context)"
                    + " but the KV cache of model " + modelName + " holds only " + pool.layout().tokens()
                    + "; lower max_tokens, or raise the backend option " + EngineLimits.KV_CACHE_TOKENS_OPTION);
        }
        // a block of headroom per running choice, so that admitting this one does not preempt them at once
        return pool.allocate(s.owner().promptTokens(), s.startLength(), running.size());
    }

    /** Sends {@code s} back to the front of the queue, freeing its blocks and slot, to be recomputed later. */
    private void preempt(SequenceState s) {
        running.remove(s);
        giveBack(s);
        s.preempt();
        waiting.addFirst(s);
        preemptions++;
        log.debug("model {}: preempted a choice ({} running, {} KV blocks available)", modelName, running.size(),
                pool.availableBlocks());
    }

    /** Returns the choice's blocks to the pool and its slot to the device (released by the next plan). */
    private void giveBack(SequenceState s) {
        if (!s.isStarted()) {
            return;
        }
        pool.release(s.kv());
        if (releaseCount == releases.length) {
            releases = Arrays.copyOf(releases, 2 * releaseCount);
        }
        releases[releaseCount++] = s.slot();
        freeSlots[freeSlotCount++] = s.slot();
        s.stopped();
    }

    /** Processes a finished step: marks the blocks it filled computed, and hands each sample to its choice. */
    private void complete(InFlight step) {
        StepResult result;
        try {
            result = step.handle.await();
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            failMembers(step, e);
            spare.add(step);
            return;
        }
        for (int i = 0; i < step.count; i++) {
            SequenceState s = step.members[i];
            if (s.epoch() != step.epochs[i] || s.isOver()) {
                continue; // preempted since this step was planned, or finished: its results are not wanted
            }
            pool.computed(s.kv(), step.ends[i]);
            if (!step.samples[i]) {
                continue;
            }
            s.sampleReturned();
            String failure = result.failure(i);
            if (failure != null) {
                failRequest(s.owner(), new IllegalStateException("sampling failed: " + failure));
                continue;
            }
            generatedTokens++; // the engine thread is the only writer
            if (accept(s, result, i)) {
                giveBack(s); // before the future completes: a finished request holds no memory
                kvStats = pool.stats();
                s.owner().choiceFinished(s.choiceIndex(), s.output());
            }
        }
        retire();
        kvStats = pool.stats();
        spare.add(step);
    }

    /** {@link SequenceState#accept}; a choice its grammar cannot continue fails its request. */
    private boolean accept(SequenceState s, StepResult result, int entry) {
        try {
            return s.accept(result, entry);
        } catch (IllegalStateException e) {
            failRequest(s.owner(), e);
            return false;
        }
    }

    /** Drops finished choices, and choices of failed requests, from the running set, freeing their blocks. */
    private void retire() {
        running.removeIf(s -> {
            boolean over = s.isOver();
            if (over) {
                giveBack(s);
            }
            return over;
        });
    }

    private void failMembers(InFlight step, Throwable e) {
        for (int i = 0; i < step.count; i++) {
            SequenceState s = step.members[i];
            if (s.epoch() == step.epochs[i]) {
                failRequest(s.owner(), e);
            }
        }
        retire();
        kvStats = pool.stats();
    }

    private void failRequest(RequestState request, Throwable e) {
        if (request.isDone()) {
            return;
        }
        log.error("model {}: a request failed in the engine", modelName, e);
        for (SequenceState s : running) {
            if (s.owner() == request) {
                giveBack(s);
            }
        }
        kvStats = pool.stats();
        request.fail(InferenceResult.error(500, "server_error", "engine_error", null,
                "the engine failed on this request (model " + modelName + "): " + e));
    }

    /** On the way out: lets the device finish, frees every block and ends every request that did not finish. */
    private void abandonAll() {
        synchronized (this) {
            ended = true;
        }
        drainInbox();
        for (InFlight step : inFlight) {
            try {
                step.handle.await(); // the executor must not be closed under a running step
            } catch (RuntimeException e) {
                log.debug("model {}: a step failed while the engine stopped", modelName, e);
            }
        }
        inFlight.clear();
        IllegalStateException closed = new IllegalStateException("the engine of model " + modelName
                + " was closed before this request finished");
        for (SequenceState s : running) {
            giveBack(s);
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

    /**
     * A submitted step as the engine remembers it: its handle, and per plan entry (same index) the
     * choice, its epoch when planned, the positions it reaches and whether it samples. Reused.
     */
    private static final class InFlight {
        StepHandle handle;
        int count;
        SequenceState[] members = new SequenceState[8];
        int[] epochs = new int[8];
        int[] ends = new int[8];
        boolean[] samples = new boolean[8];

        void clear() {
            Arrays.fill(members, 0, count, null);
            count = 0;
            handle = null;
        }

        void add(SequenceState s, int end, boolean sample) {
            if (count == members.length) {
                int n = 2 * count;
                members = Arrays.copyOf(members, n);
                epochs = Arrays.copyOf(epochs, n);
                ends = Arrays.copyOf(ends, n);
                samples = Arrays.copyOf(samples, n);
            }
            members[count] = s;
            epochs[count] = s.epoch();
            ends[count] = end;
            samples[count] = sample;
            count++;
        }
    }
}
