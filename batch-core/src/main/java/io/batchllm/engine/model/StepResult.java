package io.batchllm.engine.model;

import java.util.Arrays;

/**
 * What a step sent back: for each entry of its {@link StepPlan} that sampled, the token, its
 * log-probability and the top alternatives its sequence asked for. That is O(entries × top logprobs)
 * numbers; logits never leave the device.
 *
 * <p>A sequence whose sampling failed (a NaN in its logits, say) has a {@link #failure} instead of a
 * token; the other entries of the step are unaffected.
 *
 * <p>Filled by the executor (different entries may be written by different threads), then read by
 * the engine thread once {@link StepHandle#await()} has returned it; it belongs to the caller then.
 */
public final class StepResult {
    /** {@link #token} of an entry that did not sample, or whose sampling failed. */
    public static final int NO_TOKEN = -1;

    private final int maxTop;
    private final int[] token;
    private final float[] logprob;
    private final int[] topCount;
    private final int[] topToken;
    private final float[] topLogprob;
    private String[] failure;

    /**
     * An empty result: no entry sampled yet.
     *
     * @param entries the plan's {@link StepPlan#entryCount()}
     * @param maxTopLogprobs the most top logprobs any of them reports
     */
    public StepResult(int entries, int maxTopLogprobs) {
        this.maxTop = maxTopLogprobs;
        this.token = new int[entries];
        Arrays.fill(token, NO_TOKEN);
        this.logprob = new float[entries];
        this.topCount = maxTopLogprobs == 0 ? null : new int[entries];
        this.topToken = new int[entries * maxTopLogprobs];
        this.topLogprob = new float[entries * maxTopLogprobs];
    }

    /** Entries of the step. */
    public int entryCount() {
        return token.length;
    }

    /** Whether entry {@code e} has a sampled token. */
    public boolean sampled(int e) {
        return token[e] != NO_TOKEN;
    }

    /** Entry {@code e}'s sampled token, or {@link #NO_TOKEN}. */
    public int token(int e) {
        return token[e];
    }

    /** The sampled token's log-probability, NaN when its sequence did not ask for logprobs. */
    public float logprob(int e) {
        return logprob[e];
    }

    /** How many top logprobs entry {@code e} has. */
    public int topCount(int e) {
        return topCount == null ? 0 : topCount[e];
    }

    /** Entry {@code e}'s {@code i}-th most likely token (ties: lower id first). */
    public int topToken(int e, int i) {
        return topToken[e * maxTop + i];
    }

    /** The log-probability of {@link #topToken(int, int) topToken(e, i)}. */
    public float topLogprob(int e, int i) {
        return topLogprob[e * maxTop + i];
    }

    /** Why entry {@code e}'s sampling failed, or null. */
    public String failure(int e) {
        return failure == null ? null : failure[e];
    }

    // --- writing, for executors

    /** Records entry {@code e}'s sample. */
    public void setToken(int e, int sampledToken, float sampledLogprob) {
        if (sampledToken < 0) {
            throw new IllegalArgumentException("a sampled token id is >= 0, got " + sampledToken);
        }
        token[e] = sampledToken;
        logprob[e] = sampledLogprob;
    }

    /**
     * Records entry {@code e}'s {@code i}-th top logprob; {@code i} counts up from 0 and sets the
     * entry's {@link #topCount}.
     */
    public void setTop(int e, int i, int alternative, float alternativeLogprob) {
        if (i >= maxTop) {
            throw new IllegalArgumentException("top logprob " + i + " of entry " + e + ": this result holds "
                    + maxTop + " per entry");
        }
        topToken[e * maxTop + i] = alternative;
        topLogprob[e * maxTop + i] = alternativeLogprob;
        topCount[e] = i + 1;
    }

    /**
     * Records that entry {@code e}'s sampling failed, and why. Synchronized: executors sample entries
     * on several threads, and the first failure creates the array.
     */
    public synchronized void setFailure(int e, String why) {
        if (failure == null) {
            failure = new String[token.length];
        }
        failure[e] = why;
        token[e] = NO_TOKEN;
    }
}
