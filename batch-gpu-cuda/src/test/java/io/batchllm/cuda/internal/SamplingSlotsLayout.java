package io.batchllm.cuda.internal;

/** SamplingSlots' size and offsets, in the order sampling.cu's {@code sampling_params_layout} reports them. */
public final class SamplingSlotsLayout {
    private SamplingSlotsLayout() {
    }

    public static long[] expected() {
        return new long[] {SamplingSlots.BYTES, SamplingSlots.SEED, SamplingSlots.TEMPERATURE, SamplingSlots.TOP_P,
                SamplingSlots.MIN_P, SamplingSlots.PRESENCE, SamplingSlots.FREQUENCY, SamplingSlots.REPETITION,
                SamplingSlots.TOP_K, SamplingSlots.CHOICE, SamplingSlots.TOP_LOGPROBS, SamplingSlots.FLAGS,
                SamplingSlots.BIAS_OFFSET, SamplingSlots.BIAS_COUNT, SamplingSlots.MIN_TOKENS, SamplingSlots.END_OFFSET,
                SamplingSlots.END_COUNT};
    }
}
