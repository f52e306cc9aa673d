package io.batchllm.engine;

import io.batchllm.engine.grammar.GrammarCursor;
import io.batchllm.engine.kv.KvSequence;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.openai.ChoiceOutput;
import io.batchllm.engine.openai.FinishReason;
import io.batchllm.engine.openai.LogprobEntry;
import io.batchllm.engine.openai.LogprobToken;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.engine.sampling.StopMatcher;
import io.batchllm.engine.tokenizer.TokenDecoder;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One choice of one request while it generates: what the host keeps of it (its streaming decoder and
 * stop matcher, its generated tokens, text and logprobs) and where it stands on the device (slot, KV
 * blocks, positions sent). Used by the engine thread only.
 *
 * <p>Life: created waiting; {@link #start} gives it a slot and KV blocks for the positions it computes
 * at once; the scheduler then sends its prompt in chunks and, once the prompt is in, one feedback
 * decode per step, and {@link #accept} takes each sampled token until the choice is finished. A
 * choice can be preempted ({@link #preempt}): it gives its slot and blocks back, keeps its tokens, and
 * is started again later on its prompt plus those tokens, which it recomputes; since the device draws
 * generated token {@code i}'s random number from {@code (seed, choice, i)} and the logits do not
 * depend on the batch, its output is what it would have been without the interruption.
 */
final class SequenceState {
    private final RequestState owner;
    private final int choiceIndex;
    private final Tokenizer tokenizer;
    private final SamplingParams params;
    private final long seed;
    private final int[] endTokens;
    private final TokenDecoder decoder;
    private final StopMatcher stops;
    private final int contextLength;
    private final StringBuilder text = new StringBuilder();
    /** Null when the request did not ask for logprobs. */
    private final List<LogprobEntry> logprobs;

    private int[] generated = new int[16];
    private int generatedCount;
    private ChoiceOutput output;
    /** Where its output stands in its request's grammar; null for free text. */
    private GrammarCursor cursor;
    /** A control token its first sample may take without advancing the grammar (a tool-call marker), or -1. */
    private int leadingToken = -1;

    // Where it stands on the device; reset by preempt().
    private KvSequence kv;
    private int slot = -1;
    /** The tokens of positions [0, computeLength): the prompt, or prompt + generated tokens on a resume. */
    private int[] computeTokens;
    /** Positions sent to the device (in steps submitted, finished or not). */
    private int scheduled;
    /** Samples asked for in steps whose results have not been processed. */
    private int pendingSamples;
    /** Bumped on every preemption, so that results of steps planned before it are ignored. */
    private int epoch;
    private boolean everStarted;

    /**
     * @param seed the request's seed, or the one the engine drew for a request without one
     * @param endTokens the tokens that end generation (end-of-generation tokens and stop token ids,
     *     as the request's settings say)
     */
    SequenceState(RequestState owner, int choiceIndex, Tokenizer tokenizer, int contextLength, long seed,
            int[] endTokens) {
        this.owner = owner;
        this.choiceIndex = choiceIndex;
        this.tokenizer = tokenizer;
        this.params = owner.request().sampling();
        this.seed = seed;
        this.endTokens = endTokens;
        this.decoder = tokenizer.newDecoder();
        this.stops = new StopMatcher(params.stop());
        this.contextLength = contextLength;
        this.logprobs = params.logprobs() ? new ArrayList<>() : null;
    }

    RequestState owner() {
        return owner;
    }

    int choiceIndex() {
        return choiceIndex;
    }

    int promptLength() {
        return owner.promptTokens().length;
    }

    /**
     * The most positions this choice can ever hold: the prompt plus every generated token but the
     * last, which is never fed back; with the request's {@code max_tokens} counted as if it were
     * reached (the context without one).
     */
    int maxPositions() {
        Integer maxTokens = params.maxTokens();
        return maxTokens == null ? contextLength : (int) Math.min(contextLength, (long) promptLength() + maxTokens);
    }

    /** Positions it computes when it starts: its prompt, plus the tokens it generated before a preemption. */
    int startLength() {
        return promptLength() + generatedCount;
    }

    /** Whether it has a slot (it runs, or its steps are in flight). */
    boolean isStarted() {
        return slot >= 0;
    }

    /** Whether it finished, or its request is over (failed, or a sibling choice failed it). */
    boolean isOver() {
        return output != null || owner.isDone();
    }

    int slot() {
        return slot;
    }

    KvSequence kv() {
        return kv;
    }

    int epoch() {
        return epoch;
    }

    /** Positions sent to the device so far: where its next entry starts. */
    int scheduled() {
        return scheduled;
    }

    /** Whether it has sent everything it computes at once, so each step is one feedback decode. */
    boolean isPrefilled() {
        return scheduled >= computeTokens.length;
    }

    /**
     * Whether another sample may be asked for: the choice ends at {@code max_tokens} or the context's
     * end, so the scheduler never asks beyond those, even before the pending samples are back. A
     * constrained choice asks for one sample at a time: the mask of its next sample depends on the
     * token the device has not returned yet.
     */
    boolean wantsAnotherSample() {
        int limit = contextLength - promptLength();
        if (params.maxTokens() != null) {
            limit = Math.min(limit, params.maxTokens());
        }
        return generatedCount + pendingSamples < limit && (cursor == null || pendingSamples == 0);
    }

    /**
     * Constrains this choice's output to a grammar, from its first token.
     *
     * @param leading a control token (no text) its first sample may take before the grammar starts,
     *     such as Mistral's {@code [TOOL_CALLS]}; -1 for none
     * @throws IllegalStateException if no token of the vocabulary can start the output
     */
    void constrain(GrammarCursor start, int leading) {
        this.cursor = start;
        this.leadingToken = leading;
        checkCanGoOn();
    }

    /** Whether its samples are constrained by a grammar (each needs a {@link #writeMask}). */
    boolean isConstrained() {
        return cursor != null;
    }

    /**
     * Writes the tokens its next sample may take into {@code words} (a bitset over the vocabulary):
     * the text tokens its grammar allows next, and its end tokens only where the grammar accepts the
     * text as complete (a stop token id that has text ends the choice, so it counts as an end token).
     */
    void writeMask(long[] words) {
        cursor.writeMask(words);
        boolean complete = cursor.accepts();
        for (int t : endTokens) {
            if (complete) {
                words[t >>> 6] |= 1L << (t & 63);
            } else {
                words[t >>> 6] &= ~(1L << (t & 63));
            }
        }
        if (leadingToken >= 0 && generatedCount == 0) {
            words[leadingToken >>> 6] |= 1L << (leadingToken & 63);
        }
    }

    private void checkCanGoOn() {
        if (!cursor.accepts() && cursor.allowedTokens() == 0) {
            throw new IllegalStateException("no token of the model's vocabulary can continue the output here under "
                    + owner.constraint().description() + " (after " + generatedCount + " tokens)");
        }
    }

    /**
     * Takes slot {@code slotIndex} and {@code blocks}, whose first {@link KvSequence#cachedTokens()} are
     * already computed, and returns what the device must register.
     *
     * @return the start for the step plan
     */
    SequenceStart start(int slotIndex, KvSequence blocks) {
        this.slot = slotIndex;
        this.kv = blocks;
        this.scheduled = blocks.cachedTokens();
        this.pendingSamples = 0;
        int[] prompt = owner.promptTokens();
        int[] history = Arrays.copyOf(generated, generatedCount);
        if (generatedCount == 0) {
            computeTokens = prompt;
        } else {
            computeTokens = Arrays.copyOf(prompt, prompt.length + generatedCount);
            System.arraycopy(history, 0, computeTokens, prompt.length, generatedCount);
        }
        if (!everStarted) {
            everStarted = true;
            owner.promptCached(blocks.cachedTokens());
        }
        return new SequenceStart(slotIndex, params, seed, choiceIndex, blocks.blockTable(), blocks.cachedTokens(),
                prompt, history, endTokens);
    }

    /** The tokens of the positions computed at start (prompt, then earlier generated tokens). */
    int[] computeTokens() {
        return computeTokens;
    }

    /** Records that an entry of positions up to {@code end} was planned; {@code sample} if it samples. */
    void planned(int end, boolean sample) {
        scheduled = end;
        if (sample) {
            pendingSamples++;
        }
    }

    /** A planned sample's result arrived (or was dropped): it is no longer pending. */
    void sampleReturned() {
        pendingSamples--;
    }

    /**
     * Gives up its slot and blocks for now: it waits to be started again, keeping its tokens. Results
     * of the steps already planned for it are ignored ({@link #epoch()} changes). The caller returns
     * the blocks to the pool and the slot to the device.
     */
    void preempt() {
        epoch++;
        slot = -1;
        kv = null;
        computeTokens = null;
        scheduled = 0;
        pendingSamples = 0;
    }

    /** Forgets the slot and blocks once they were given back (after it finished or failed). */
    void stopped() {
        slot = -1;
        kv = null;
    }

    /**
     * Takes entry {@code e}'s sampled token: appends its text, or finishes the choice on an end token
     * (unless {@code ignore_eos}), a stop token id, a stop string, {@code max_tokens} or the end of the
     * context.
     *
     * @return true when the choice is finished ({@link #output()} is then set)
     * @throws IllegalStateException if a constrained choice got a token its grammar refuses, or
     *     reached a text no token can continue (the request fails)
     */
    boolean accept(StepResult result, int e) {
        int token = result.token(e);
        if (generatedCount == generated.length) {
            generated = Arrays.copyOf(generated, 2 * generatedCount);
        }
        generated[generatedCount++] = token;
        if (endsGeneration(token)) {
            // the end token is counted (it was generated); its text and logprob are not part of the answer
            return finish(FinishReason.STOP);
        }
        if (cursor != null && !(token == leadingToken && generatedCount == 1)) {
            if (!cursor.advance(token)) {
                throw new IllegalStateException("the device sampled token " + token + ", which the token mask of "
                        + owner.constraint().description() + " did not allow");
            }
            checkCanGoOn();
        }
        if (logprobs != null) {
            logprobs.add(logprobEntry(result, e));
        }
        String piece = decoder.append(token);
        // stop strings are looked for in the text after the first min_tokens tokens, as vLLM does
        text.append(generatedCount > params.minTokens() ? stops.feed(piece) : piece);
        if (stops.stopped()) {
            return finish(FinishReason.STOP);
        }
        // prompt + completion stay within the context, as the admission check promised
        Integer maxTokens = params.maxTokens();
        if ((maxTokens != null && generatedCount >= maxTokens) || promptLength() + generatedCount >= contextLength) {
            return finish(FinishReason.LENGTH);
        }
        return false;
    }

    /** Whether the token is one of {@link #endTokens}: the model's end of generation (unless ignored), a stop id. */
    private boolean endsGeneration(int token) {
        for (int end : endTokens) {
            if (end == token) {
                return true;
            }
        }
        return false;
    }

    /** The finished choice, or null while it runs. */
    ChoiceOutput output() {
        return output;
    }

    private boolean finish(FinishReason reason) {
        // a character split over tokens may still be held back by the decoder, and text by the matcher
        String tail = decoder.flush();
        if (!stops.stopped() && !tail.isEmpty()) {
            text.append(generatedCount > params.minTokens() ? stops.feed(tail) : tail);
        }
        if (!stops.stopped()) {
            text.append(stops.flush());
        }
        FinishReason why = stops.stopped() ? FinishReason.STOP : reason;
        output = new ChoiceOutput(text.toString(), why, generatedCount, logprobs);
        return true;
    }

    private LogprobEntry logprobEntry(StepResult result, int e) {
        List<LogprobToken> alternatives = new ArrayList<>(result.topCount(e));
        for (int i = 0; i < result.topCount(e); i++) {
            alternatives.add(logprobToken(result.topToken(e, i), result.topLogprob(e, i)));
        }
        return new LogprobEntry(logprobToken(result.token(e), result.logprob(e)), alternatives);
    }

    private LogprobToken logprobToken(int token, float logprob) {
        return new LogprobToken(tokenizer.tokenText(token), tokenizer.tokenBytes(token), logprob);
    }
}
