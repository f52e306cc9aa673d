package io.batchllm.engine.model;

import java.util.List;

/**
 * One forward step of the <em>reference logits path</em>: a ragged batch of sequences, each with its
 * own new tokens, position and whole block table, answered with a row of logits per sequence
 * ({@link StepOutput}). The CPU executor keeps this path for the tests that compare its logits with
 * independent implementations; it is not part of the {@link DeviceExecutor} contract, whose steps
 * ({@link StepPlan}) send only what changed and get back sampled tokens.
 *
 * @param sequences the sequences, at least one; the order defines the indexes of {@link StepOutput}
 */
public record StepInput(List<SequenceStep> sequences) {

    public StepInput {
        sequences = List.copyOf(sequences);
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one sequence");
        }
    }

    public static StepInput of(SequenceStep... sequences) {
        return new StepInput(List.of(sequences));
    }

    /** Total new tokens across all sequences. */
    public int tokenCount() {
        int n = 0;
        for (SequenceStep s : sequences) {
            n += s.tokenCount();
        }
        return n;
    }
}
