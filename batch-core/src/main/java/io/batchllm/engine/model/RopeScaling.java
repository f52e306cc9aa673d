package io.batchllm.engine.model;

/**
 * RoPE context-extension settings from the {@code <arch>.rope.scaling.*} keys.
 *
 * <p>What each type does, matching llama.cpp:
 * <ul>
 *   <li>{@link Type#NONE}: frequencies unchanged.
 *   <li>{@link Type#LINEAR}: every angle multiplied by {@code 1/factor}. llama.cpp treats a file that
 *       has {@code rope.scaling.factor} but no {@code rope.scaling.type} as linear, and so do we.
 *   <li>{@link Type#LLAMA3}: Llama 3.1's per-frequency divisors. llama.cpp itself only reads them from
 *       the {@code rope_freqs.weight} tensor its converter writes; when a file names this type but lacks
 *       the tensor, the divisors are computed from {@link #factor}, {@link #lowFreqFactor},
 *       {@link #highFreqFactor} and {@link #originalContextLength} with the converter's formula.
 * </ul>
 *
 * @param type how frequencies are scaled
 * @param factor the scale factor (1 when not scaling)
 * @param lowFreqFactor Llama 3.1's {@code low_freq_factor} (default 1)
 * @param highFreqFactor Llama 3.1's {@code high_freq_factor} (default 4)
 * @param originalContextLength the context length the model was pre-trained with
 *     ({@code rope.scaling.original_context_length}; default 8192 for {@code llama3} scaling, else the
 *     model's context length). LongRoPE (Phi-3) uses its long factors when the context is longer.
 * @param attnFactor {@code rope.scaling.attn_factor} (default 1): the rotated values are multiplied by
 *     it, as ggml's RoPE multiplies cos and sin by its {@code attn_factor} (LongRoPE's magnitude
 *     correction; Phi-3.5 files carry ≈1.19)
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalContextLength, double attnFactor) {

    /** Llama 3.1's published defaults, used for keys a {@code llama3}-scaled file leaves out. */
    public static final double DEFAULT_LOW_FREQ_FACTOR = 1.0;
    public static final double DEFAULT_HIGH_FREQ_FACTOR = 4.0;
    public static final int DEFAULT_ORIGINAL_CONTEXT_LENGTH = 8192;

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1.0, DEFAULT_LOW_FREQ_FACTOR,
            DEFAULT_HIGH_FREQ_FACTOR, DEFAULT_ORIGINAL_CONTEXT_LENGTH, 1.0);

    /**
     * The scaling types the engine implements. {@code LONGROPE} ({@code "longrope"}, or Phi-3's older
     * {@code "su"}) divides each frequency by the file's {@code rope_factors_long} or
     * {@code rope_factors_short} tensor; Phi-3 files carry those tensors without naming a type, and
     * they apply then too.
     */
    public enum Type {
        NONE, LINEAR, LLAMA3, LONGROPE
    }

    /**
     * The Llama 3.1 divisor for a frequency (radians per position), as llama.cpp's converter computes
     * it for {@code rope_freqs.weight}: 1 for high frequencies, {@code factor} for low ones, and a
     * smooth blend between.
     */
    public double llama3Divisor(double frequency) {
        double lowFreqWavelen = originalContextLength / lowFreqFactor;
        double highFreqWavelen = originalContextLength / highFreqFactor;
        double wavelen = 2 * Math.PI / frequency;
        if (wavelen < highFreqWavelen) {
            return 1.0;
        }
        if (wavelen > lowFreqWavelen) {
            return factor;
        }
        double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return 1.0 / ((1 - smooth) / factor + smooth);
    }
}
