package io.batchllm.engine;

import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvSequence;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.openai.ChoiceOutput;
import io.batchllm.engine.openai.FinishReason;
import io.batchllm.engine.openai.LogprobEntry;
import io.batchllm.engine.openai.LogprobToken;
import io.batchllm.engine.sampling.SampledToken;
import io.batchllm.engine.sampling.Sampler;
import io.batchllm.engine.sampling.StopMatcher;
import io.batchllm.engine.sampling.TokenLogprob;
import io.batchllm.engine.tokenizer.TokenDecoder;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One choice of one request while it generates: its sampler, its streaming decoder and stop matcher,
 * its KV blocks, and the text and logprobs so far. Used by the engine thread only.
 *
 * <p>Life: created waiting; {@link #start} gives it its reserved KV blocks (maybe with a shared prompt
 * prefix already computed); each step it runs {@link #nextStep} (a prompt chunk, then one token at a
 * time), and once its prompt is in, feeds each sampled token to {@link #accept}, until that reports the
 * choice finished.
 */
final class SequenceState {
    private final RequestState owner;
    private final int choiceIndex;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final TokenDecoder decoder;
    private final StopMatcher stops;
    private final Integer maxTokens;
    private final int contextLength;
    private final StringBuilder text = new StringBuilder();
    /** Null when the request did not ask for logprobs. */
    private final List<LogprobEntry> logprobs;

    private KvBlockPool pool;
    private KvSequence kv;
    /** Positions stored in the cache: where the next token goes. */
    private int position;
    private int lastToken;
    private int generated;
    private ChoiceOutput output;

    SequenceState(RequestState owner, int choiceIndex, Tokenizer tokenizer, int contextLength) {
        this.owner = owner;
        this.choiceIndex = choiceIndex;
        this.tokenizer = tokenizer;
        var params = owner.request().sampling();
        this.sampler = Sampler.create(params, tokenizer.vocabSize(), choiceIndex);
        this.decoder = tokenizer.newDecoder();
        this.stops = new StopMatcher(params.stop());
        this.maxTokens = params.maxTokens();
        this.contextLength = contextLength;
        this.logprobs = params.logprobs() ? new ArrayList<>() : null;
    }

    RequestState owner() {
        return owner;
    }

    /**
     * How many positions this choice can need, all reserved when it starts: the prompt plus every
     * generated token but the last, which is never fed back.
     */
    int cacheCapacity() {
        int prompt = owner.promptTokens().length;
        return maxTokens == null ? contextLength : (int) Math.min(contextLength, (long) prompt + maxTokens);
    }

    int promptLength() {
        return owner.promptTokens().length;
    }

    /** Runs from now on in {@code kv}'s blocks, whose first {@link KvSequence#cachedTokens()} are computed. */
    void start(KvBlockPool pool, KvSequence kv) {
        this.pool = pool;
        this.kv = kv;
        this.position = kv.cachedTokens();
    }

    boolean isStarted() {
        return kv != null;
    }

    /** Prompt tokens found computed in shared blocks when it started. */
    int cachedPromptTokens() {
        return kv.cachedTokens();
    }

    /** Whether the whole prompt is in the cache, so each step is one generated token. */
    boolean isPrefilled() {
        return position >= promptLength();
    }

    /** Prompt tokens not yet in the cache. */
    int remainingPrompt() {
        return Math.max(0, promptLength() - position);
    }

    /**
     * The work of this choice in the next step: up to {@code budget} more prompt tokens (a chunk)
     * while the prompt is not all in, then its last generated token. Logits are asked for only when
     * the step reaches the prompt's end.
     */
    SequenceStep nextStep(int budget) {
        int[] table = kv.blockTable();
        if (isPrefilled()) {
            return SequenceStep.decode(table, position, lastToken);
        }
        int[] prompt = owner.promptTokens();
        int end = Math.min(prompt.length, position + budget);
        return new SequenceStep(table, position, Arrays.copyOfRange(prompt, position, end), end == prompt.length);
    }

    /**
     * The step from {@link #nextStep} ran: its tokens are now in the cache.
     *
     * @return whether that step produced this choice's next logits (it fed the prompt's last token or a
     *     generated one)
     */
    boolean stepDone(SequenceStep step) {
        position = step.end();
        pool.computed(kv, position);
        return step.wantLogits();
    }

    /** Picks the next token from the logits of the step that just ran. */
    SampledToken sample(float[] logits) {
        return sampler.sample(logits);
    }

    /**
     * Takes the sampled token: appends its text, or finishes the choice on an end-of-generation token,
     * a stop string, {@code max_tokens} or the end of the context.
     *
     * @return true when the choice is finished ({@link #output()} is then set)
     */
    boolean accept(SampledToken sampled) {
        int token = sampled.token();
        generated++;
        if (tokenizer.isEndOfGeneration(token)) {
            // the end token is counted (it was generated); its text and logprob are not part of the answer
            return finish(FinishReason.STOP);
        }
        if (logprobs != null) {
            logprobs.add(logprobEntry(sampled));
        }
        text.append(stops.feed(decoder.append(token)));
        if (stops.stopped()) {
            return finish(FinishReason.STOP);
        }
        // prompt + completion stay within the context, as the admission check promised
        if ((maxTokens != null && generated >= maxTokens) || promptLength() + generated >= contextLength) {
            return finish(FinishReason.LENGTH);
        }
        lastToken = token;
        return false;
    }

    /** The finished choice, or null while it runs. */
    ChoiceOutput output() {
        return output;
    }

    int choiceIndex() {
        return choiceIndex;
    }

    /** Gives its KV blocks back to the pool; idempotent. */
    void release() {
        if (kv != null) {
            pool.release(kv);
        }
    }

    private boolean finish(FinishReason reason) {
        // a character split over tokens may still be held back by the decoder, and text by the matcher
        String tail = decoder.flush();
        if (!stops.stopped() && !tail.isEmpty()) {
            text.append(stops.feed(tail));
        }
        if (!stops.stopped()) {
            text.append(stops.flush());
        }
        FinishReason why = stops.stopped() ? FinishReason.STOP : reason;
        output = new ChoiceOutput(text.toString(), why, generated, logprobs);
        return true;
    }

    private LogprobEntry logprobEntry(SampledToken sampled) {
        List<LogprobToken> alternatives = new ArrayList<>(sampled.topLogprobs().size());
        for (TokenLogprob alternative : sampled.topLogprobs()) {
            alternatives.add(logprobToken(alternative.token(), alternative.logprob()));
        }
        return new LogprobEntry(logprobToken(sampled.token(), sampled.logprob()), alternatives);
    }

    private LogprobToken logprobToken(int token, float logprob) {
        return new LogprobToken(tokenizer.tokenText(token), tokenizer.tokenBytes(token), logprob);
    }
}
