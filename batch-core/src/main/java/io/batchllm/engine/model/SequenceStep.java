package io.batchllm.engine.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * One sequence's share of a {@link StepInput}: the new tokens to run (one for a decode step, many for a
 * prefill or a prefill chunk), the position of the first of them, and the sequence's KV cache.
 *
 * @param kvCache the sequence's cache, created by the executor that runs the step
 * @param position position of {@code tokens[0]}; at most {@code kvCache.length()}, and
 *        {@code position + tokens.length <= kvCache.capacity()}
 * @param tokens token ids, at least one; copied, so the caller may reuse its array
 * @param wantLogits whether to return logits for the last token (prefill chunks other than the last
 *        one don't need them, and skipping them saves the LM-head product)
 */
public record SequenceStep(KvCache kvCache, int position, int[] tokens, boolean wantLogits) {

    public SequenceStep {
        Objects.requireNonNull(kvCache, "kvCache");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence step needs at least one token");
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, is " + position);
        }
        tokens = tokens.clone();
    }

    /** A prompt (or its first chunk) from position 0, with logits for its last token. */
    public static SequenceStep prefill(KvCache kvCache, int[] tokens) {
        return new SequenceStep(kvCache, 0, tokens, true);
    }

    /** One generated token at {@code position}, with logits. */
    public static SequenceStep decode(KvCache kvCache, int position, int token) {
        return new SequenceStep(kvCache, position, new int[] {token}, true);
    }

    /** The token ids (a copy). */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Number of tokens. */
    public int tokenCount() {
        return tokens.length;
    }

    /** Token {@code i}, without copying the array. */
    public int token(int i) {
        return tokens[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SequenceStep s && s.kvCache == kvCache && s.position == position
                && s.wantLogits == wantLogits && Arrays.equals(s.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return Objects.hash(System.identityHashCode(kvCache), position, Arrays.hashCode(tokens), wantLogits);
    }

    @Override
    public String toString() {
        return "SequenceStep[position=" + position + ", tokens=" + tokens.length + ", wantLogits=" + wantLogits + "]";
    }
}
