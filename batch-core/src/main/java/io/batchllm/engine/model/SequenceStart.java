package io.batchllm.engine.model;

import io.batchllm.engine.sampling.SamplingParams;
import java.util.Arrays;
import java.util.Objects;

/**
 * A sequence taking a slot of the executor (part of a {@link StepPlan}): everything the device keeps
 * for it until the slot is released, sent once instead of with every step.
 *
 * <p>A sequence that was preempted and now resumes is started again, with the tokens it had
 * generated as {@code generatedTokens}: the device counts them for the penalties, and its next sample
 * is generated token {@code generatedTokens.length}, so that it draws the random number it would have
 * drawn without the interruption (see {@link io.batchllm.engine.sampling.Sampler}).
 *
 * @param slot the executor slot, {@code 0 ≤ slot <} {@link DeviceExecutor#slots()}; it must be free
 *     (never used, or released earlier in the same plan or before)
 * @param sampling how to pick its tokens: temperature, top-k, top-p, min-p, penalties, logit bias,
 *     {@code min_tokens}, how many logprobs to return. The fields about stopping (stop strings,
 *     {@code max_tokens}, {@code n}) are the engine's and the device ignores them
 * @param seed the random seed: the request's, or one the engine drew for it
 * @param choiceIndex which choice of its request this is (0 to n-1): with the seed, it picks the
 *     random stream
 * @param blockTable its KV blocks so far, in position order: position {@code p} is in block
 *     {@code blockTable[p / blockSize]}; steps may append more ({@link StepPlan#addBlock})
 * @param cachedTokens positions {@code [0, cachedTokens)} are already in the blocks (a shared prompt
 *     prefix another sequence computed): its first step starts there
 * @param promptTokens its prompt, for the repetition penalty (a device may ignore it when
 *     {@link SamplingParams#repetitionPenalty()} is 1)
 * @param generatedTokens the tokens it generated before being preempted; empty for a new sequence
 * @param endTokens the tokens that would end it (end-of-generation tokens unless ignored, stop token
 *     ids): masked while fewer than {@link SamplingParams#minTokens()} tokens were generated. The
 *     device does not stop on them; the engine does
 */
public record SequenceStart(int slot, SamplingParams sampling, long seed, int choiceIndex, int[] blockTable,
                            int cachedTokens, int[] promptTokens, int[] generatedTokens, int[] endTokens) {

    public SequenceStart {
        Objects.requireNonNull(sampling, "sampling");
        blockTable = blockTable.clone();
        promptTokens = promptTokens.clone();
        generatedTokens = generatedTokens.clone();
        endTokens = endTokens.clone();
        if (slot < 0 || cachedTokens < 0) {
            throw new IllegalArgumentException("slot and cachedTokens must be >= 0, got " + slot + " and "
                    + cachedTokens);
        }
        if (choiceIndex < 0 || choiceIndex >= sampling.n()) {
            throw new IllegalArgumentException("choiceIndex must be between 0 and n-1 = " + (sampling.n() - 1)
                    + ", got " + choiceIndex);
        }
    }

    /** The initial block table (a copy). */
    @Override
    public int[] blockTable() {
        return blockTable.clone();
    }

    /** Entries in the initial block table. */
    public int blockCount() {
        return blockTable.length;
    }

    /** Entry {@code i} of the initial block table, without copying it. */
    public int block(int i) {
        return blockTable[i];
    }

    /** The prompt (a copy). */
    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    /** The tokens generated before (a copy). */
    @Override
    public int[] generatedTokens() {
        return generatedTokens.clone();
    }

    /** How many tokens it generated before: the index of its next sample. */
    public int generatedCount() {
        return generatedTokens.length;
    }

    /** The end tokens (a copy). */
    @Override
    public int[] endTokens() {
        return endTokens.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SequenceStart s && s.slot == slot && s.sampling.equals(sampling) && s.seed == seed
                && s.choiceIndex == choiceIndex && s.cachedTokens == cachedTokens
                && Arrays.equals(s.blockTable, blockTable) && Arrays.equals(s.promptTokens, promptTokens)
                && Arrays.equals(s.generatedTokens, generatedTokens) && Arrays.equals(s.endTokens, endTokens);
    }

    @Override
    public int hashCode() {
        return Objects.hash(slot, sampling, seed, choiceIndex, cachedTokens, Arrays.hashCode(blockTable),
                Arrays.hashCode(promptTokens), Arrays.hashCode(generatedTokens), Arrays.hashCode(endTokens));
    }

    @Override
    public String toString() {
        return "SequenceStart[slot=" + slot + ", choice=" + choiceIndex + ", blocks=" + blockTable.length
                + ", cachedTokens=" + cachedTokens + ", prompt=" + promptTokens.length + ", generated="
                + generatedTokens.length + "]";
    }
}
