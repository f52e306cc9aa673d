package io.batchllm.cuda.internal;

import io.batchllm.engine.sampling.SamplingParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Writes a sequence's sampling settings in the layout of the kernels' {@code struct SamplingParams}
 * (sampling.cu): {@value #BYTES} bytes a slot, little-endian, offsets as the constants below. A test
 * compiles the struct on the host (the kernel emulator) and checks every offset against these.
 *
 * <p>The seed is passed resolved: a request without one gets a random seed from the engine when its
 * sequence starts. The penalties' float values are the CPU sampler's ({@code (float)} of the
 * settings), so that the kernel computes with the same numbers.
 */
public final class SamplingSlots {
    /** Bytes of one slot. */
    public static final int BYTES = 80;
    static final long SEED = 0;
    static final long TEMPERATURE = 8;
    static final long TOP_P = 16;
    static final long MIN_P = 24;
    static final long PRESENCE = 32;
    static final long FREQUENCY = 36;
    static final long REPETITION = 40;
    static final long TOP_K = 44;
    static final long CHOICE = 48;
    static final long TOP_LOGPROBS = 52;
    static final long FLAGS = 56;
    static final long BIAS_OFFSET = 60;
    static final long BIAS_COUNT = 64;
    static final long MIN_TOKENS = 68;
    static final long END_OFFSET = 72;
    static final long END_COUNT = 76;

    /** Flag bits, as {@code SAMPLE_*} in sampling.cu. */
    public static final int GREEDY = 1;
    public static final int LOGPROBS = 2;
    public static final int PENALTIES = 4;
    public static final int REPETITION_PENALTY = 8;

    /** The most top logprobs a row reports ({@code SAMPLE_MAX_TOP}). */
    public static final int MAX_TOP = 20;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SamplingSlots() {
    }

    /** Where a slot's logit biases and end tokens are in the kernels' token arrays. */
    public record Lists(int biasOffset, int endOffset, int endCount) {
    }

    /**
     * Writes slot {@code slot} of {@code table} (which holds {@code BYTES} bytes per slot).
     *
     * @param seed the resolved seed
     * @param choice the choice index (0 to n-1)
     * @param lists where this slot's logit biases ({@link #writeBias}) and end tokens are; the end
     *     tokens count only while {@link SamplingParams#minTokens()} tokens were not generated
     */
    public static void write(MemorySegment table, int slot, SamplingParams p, long seed, int choice, Lists lists) {
        if (p.topLogprobs() > MAX_TOP) {
            throw new IllegalArgumentException("at most " + MAX_TOP + " top logprobs, got " + p.topLogprobs());
        }
        MemorySegment s = table.asSlice((long) slot * BYTES, BYTES);
        s.set(LONG, SEED, seed);
        s.set(DOUBLE, TEMPERATURE, p.temperature());
        s.set(DOUBLE, TOP_P, p.topP());
        s.set(DOUBLE, MIN_P, p.minP());
        s.set(FLOAT, PRESENCE, (float) p.presencePenalty());
        s.set(FLOAT, FREQUENCY, (float) p.frequencyPenalty());
        s.set(FLOAT, REPETITION, (float) p.repetitionPenalty());
        s.set(INT, TOP_K, p.topK());
        s.set(INT, CHOICE, choice);
        s.set(INT, TOP_LOGPROBS, p.logprobs() ? p.topLogprobs() : 0);
        s.set(INT, FLAGS, flags(p));
        s.set(INT, BIAS_OFFSET, lists.biasOffset());
        s.set(INT, BIAS_COUNT, p.logitBias().size());
        s.set(INT, MIN_TOKENS, p.minTokens());
        s.set(INT, END_OFFSET, lists.endOffset());
        s.set(INT, END_COUNT, lists.endCount());
    }

    /**
     * The {@code SAMPLE_*} flags of {@code p}: the repetition penalty (vLLM's rule: the logit of a
     * token seen in the prompt or the output is divided by the penalty when positive, multiplied when
     * negative) has its own flag, for it needs the prompt's tokens.
     */
    public static int flags(SamplingParams p) {
        return (p.greedy() ? GREEDY : 0) | (p.logprobs() ? LOGPROBS : 0) | (p.penalized() ? PENALTIES : 0)
                | (p.repetitionPenalty() != 1 ? REPETITION_PENALTY : 0);
    }

    /**
     * Writes {@code p}'s logit biases at entry {@code offset} of the token and value arrays; returns
     * the next free entry.
     */
    public static int writeBias(MemorySegment tokens, MemorySegment values, int offset, SamplingParams p) {
        int i = offset;
        for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) {
            tokens.setAtIndex(INT, i, e.getKey());
            values.setAtIndex(FLOAT, i, e.getValue());
            i++;
        }
        return i;
    }
}
