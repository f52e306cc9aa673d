package io.batchllm.engine;

import java.util.Map;

/**
 * How much work a {@link LocalEngine} takes on at once.
 *
 * @param maxSequences most sequences (choices) generating at once; more wait in line. Default
 *     {@value #DEFAULT_MAX_SEQUENCES}, allowed 1 to {@value #MAX_SEQUENCES}
 * @param maxStepTokens the token budget of one forward step: the running sequences' decode tokens plus
 *     the prompts admitted in that step. A prompt longer than the budget is still admitted, alone, and
 *     prefilled whole. Default {@value #DEFAULT_MAX_STEP_TOKENS}, allowed 1 to {@value #MAX_STEP_TOKENS}
 */
public record EngineLimits(int maxSequences, int maxStepTokens) {

    /** Default {@link #maxSequences()}: enough to keep a CPU's matmuls weight-read-bound, not more. */
    public static final int DEFAULT_MAX_SEQUENCES = 32;
    /** Largest {@link #maxSequences()}. */
    public static final int MAX_SEQUENCES = 4096;
    /** Default {@link #maxStepTokens()}. */
    public static final int DEFAULT_MAX_STEP_TOKENS = 512;
    /** Largest {@link #maxStepTokens()}. */
    public static final int MAX_STEP_TOKENS = 1 << 20;
    /** The backend option ({@code --backend-option max_sequences=N}) that sets {@link #maxSequences()}. */
    public static final String MAX_SEQUENCES_OPTION = "max_sequences";
    /** The backend option that sets {@link #maxStepTokens()}. */
    public static final String MAX_STEP_TOKENS_OPTION = "max_step_tokens";

    /** The defaults. */
    public static final EngineLimits DEFAULTS = new EngineLimits(DEFAULT_MAX_SEQUENCES, DEFAULT_MAX_STEP_TOKENS);

    public EngineLimits {
        checkRange(MAX_SEQUENCES_OPTION, maxSequences, MAX_SEQUENCES);
        checkRange(MAX_STEP_TOKENS_OPTION, maxStepTokens, MAX_STEP_TOKENS);
    }

    /**
     * The defaults, overridden by the backend options {@value #MAX_SEQUENCES_OPTION} and
     * {@value #MAX_STEP_TOKENS_OPTION} where present. Other options are left to others.
     *
     * @throws IllegalArgumentException naming the option when its value is not an integer in range
     */
    public static EngineLimits fromOptions(Map<String, String> options) {
        return new EngineLimits(intOption(options, MAX_SEQUENCES_OPTION, DEFAULT_MAX_SEQUENCES, MAX_SEQUENCES),
                intOption(options, MAX_STEP_TOKENS_OPTION, DEFAULT_MAX_STEP_TOKENS, MAX_STEP_TOKENS));
    }

    private static int intOption(Map<String, String> options, String name, int fallback, int max) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend option " + name + " must be an integer from 1 to " + max
                    + ", got '" + value + "'");
        }
    }

    private static void checkRange(String name, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(name + " must be from 1 to " + max + ", got " + value);
        }
    }
}
