package io.batchllm.engine.model;

/**
 * What a step of the reference logits path produced (see {@link StepInput}): for each sequence of the
 * {@link StepInput} (same index) that asked for them, the logits of its last token, one float per
 * vocabulary entry.
 *
 * <p>The arrays belong to the caller (the executor keeps no reference), so samplers may modify them in
 * place.
 */
public final class StepOutput {
    private final float[][] logits;

    /** @param logits per sequence, null where the sequence did not ask for logits */
    public StepOutput(float[][] logits) {
        this.logits = logits.clone();
    }

    /** Number of sequences in the step. */
    public int sequenceCount() {
        return logits.length;
    }

    /** Whether sequence {@code i} has logits (it set {@link SequenceStep#wantLogits()}). */
    public boolean hasLogits(int i) {
        return logits[i] != null;
    }

    /**
     * The logits of sequence {@code i}'s last token.
     *
     * @throws IllegalStateException if that sequence did not ask for logits
     */
    public float[] logits(int i) {
        if (logits[i] == null) {
            throw new IllegalStateException("sequence " + i + " of the step did not ask for logits");
        }
        return logits[i];
    }
}
