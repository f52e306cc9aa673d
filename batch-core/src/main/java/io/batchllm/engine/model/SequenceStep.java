package io.batchllm.engine.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * One sequence's share of a {@link StepInput} (the reference logits path): the new tokens to run (one for a decode step, many for a
 * prefill or a prefill chunk), the position of the first of them, and the sequence's block table.
 *
 * @param blockTable the blocks holding the sequence's positions, in order: position {@code p} is in
 *        block {@code blockTable[p / blockSize]} of the executor's {@link KvLayout}; it must cover at
 *        least {@code position + tokens.length} positions (it may name more, reserved for later
 *        steps); copied, so the caller may reuse its array
 * @param position position of {@code tokens[0]}; positions {@code [0, position)} are already in the
 *        table's blocks
 * @param tokens token ids, at least one; copied, so the caller may reuse its array
 * @param wantLogits whether to return logits for the last token (prefill chunks other than the last
 *        one don't need them, and skipping them saves the LM-head product)
 */
public record SequenceStep(int[] blockTable, int position, int[] tokens, boolean wantLogits) {

    public SequenceStep {
        Objects.requireNonNull(blockTable, "blockTable");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence step needs at least one token");
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, is " + position);
        }
        blockTable = blockTable.clone();
        tokens = tokens.clone();
    }

    /** A prompt (or its first chunk) from position 0, with logits for its last token. */
    public static SequenceStep prefill(int[] blockTable, int[] tokens) {
        return new SequenceStep(blockTable, 0, tokens, true);
    }

    /** One generated token at {@code position}, with logits. */
    public static SequenceStep decode(int[] blockTable, int position, int token) {
        return new SequenceStep(blockTable, position, new int[] {token}, true);
    }

    /** The block table (a copy). */
    @Override
    public int[] blockTable() {
        return blockTable.clone();
    }

    /** Entries in the block table. */
    public int blockCount() {
        return blockTable.length;
    }

    /** Entry {@code i} of the block table, without copying it. */
    public int block(int i) {
        return blockTable[i];
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

    /** One past the last position this step writes. */
    public int end() {
        return position + tokens.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SequenceStep s && s.position == position && s.wantLogits == wantLogits
                && Arrays.equals(s.blockTable, blockTable) && Arrays.equals(s.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(blockTable), position, Arrays.hashCode(tokens), wantLogits);
    }

    @Override
    public String toString() {
        return "SequenceStep[position=" + position + ", tokens=" + tokens.length + ", blocks=" + blockTable.length
                + ", wantLogits=" + wantLogits + "]";
    }
}
