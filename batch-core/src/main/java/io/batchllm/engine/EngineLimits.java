package io.batchllm.engine;

import io.batchllm.engine.kv.KvBlockPool;
import java.util.Locale;
import java.util.Map;

/**
 * How much work a {@link LocalEngine} takes on at once, and how its KV cache is laid out.
 *
 * @param maxSequences most sequences (choices) generating at once; more wait in line. Default
 *     {@value #DEFAULT_MAX_SEQUENCES}, allowed 1 to {@value #MAX_SEQUENCES}
 * @param maxStepTokens the token budget of one forward step: one token per decoding sequence first,
 *     then prompt chunks fill the rest, so a long prompt is prefilled over several steps beside the
 *     decodes. Default {@value #DEFAULT_MAX_STEP_TOKENS}, allowed 1 to {@value #MAX_STEP_TOKENS}
 * @param kvCacheTokens token positions of the paged KV cache, reserved when the engine starts; 0 (the
 *     default) sizes it automatically: {@code maxSequences × context_length}, capped by what the device
 *     offers ({@link io.batchllm.engine.model.DeviceExecutor#defaultKvCacheBytes()}, a quarter of the
 *     heap on the CPU). Allowed 0 to {@value #MAX_KV_CACHE_TOKENS}
 * @param kvBlockSize token positions per KV block. Default {@value KvBlockPool#DEFAULT_BLOCK_SIZE},
 *     allowed 1 to {@value #MAX_KV_BLOCK_SIZE}
 * @param prefixSharing whether requests whose prompts start alike share the KV blocks of that prefix
 *     (computed once). Default true
 */
public record EngineLimits(int maxSequences, int maxStepTokens, int kvCacheTokens, int kvBlockSize,
                           boolean prefixSharing) {

    /** Default {@link #maxSequences()}: enough to keep a CPU's matmuls weight-read-bound, not more. */
    public static final int DEFAULT_MAX_SEQUENCES = 32;
    /** Largest {@link #maxSequences()}. */
    public static final int MAX_SEQUENCES = 4096;
    /** Default {@link #maxStepTokens()}. */
    public static final int DEFAULT_MAX_STEP_TOKENS = 512;
    /** Largest {@link #maxStepTokens()}. */
    public static final int MAX_STEP_TOKENS = 1 << 20;
    /** {@link #kvCacheTokens()} meaning "size it automatically". */
    public static final int AUTO_KV_CACHE_TOKENS = 0;
    /** Largest {@link #kvCacheTokens()}. */
    public static final int MAX_KV_CACHE_TOKENS = 1 << 30;
    /** Largest {@link #kvBlockSize()}. */
    public static final int MAX_KV_BLOCK_SIZE = 1024;
    /** The backend option ({@code --backend-option max_sequences=N}) that sets {@link #maxSequences()}. */
    public static final String MAX_SEQUENCES_OPTION = "max_sequences";
    /** The backend option that sets {@link #maxStepTokens()}. */
    public static final String MAX_STEP_TOKENS_OPTION = "max_step_tokens";
    /** The backend option that sets {@link #kvCacheTokens()}. */
    public static final String KV_CACHE_TOKENS_OPTION = "kv_cache_tokens";
    /** The backend option that sets {@link #kvBlockSize()}. */
    public static final String KV_BLOCK_SIZE_OPTION = "kv_block_size";
    /** The backend option ({@code true} or {@code false}) that sets {@link #prefixSharing()}. */
    public static final String PREFIX_SHARING_OPTION = "prefix_sharing";

    /** The defaults. */
    public static final EngineLimits DEFAULTS = new EngineLimits(DEFAULT_MAX_SEQUENCES, DEFAULT_MAX_STEP_TOKENS,
            AUTO_KV_CACHE_TOKENS, KvBlockPool.DEFAULT_BLOCK_SIZE, true);

    public EngineLimits {
        checkRange(MAX_SEQUENCES_OPTION, maxSequences, 1, MAX_SEQUENCES);
        checkRange(MAX_STEP_TOKENS_OPTION, maxStepTokens, 1, MAX_STEP_TOKENS);
        checkRange(KV_CACHE_TOKENS_OPTION, kvCacheTokens, 0, MAX_KV_CACHE_TOKENS);
        checkRange(KV_BLOCK_SIZE_OPTION, kvBlockSize, 1, MAX_KV_BLOCK_SIZE);
    }

    /** The defaults with {@code maxSequences} and {@code maxStepTokens}. */
    public static EngineLimits of(int maxSequences, int maxStepTokens) {
        return DEFAULTS.withSequences(maxSequences, maxStepTokens);
    }

    /** These limits with other sequence slots and step budget. */
    public EngineLimits withSequences(int maxSequences, int maxStepTokens) {
        return new EngineLimits(maxSequences, maxStepTokens, kvCacheTokens, kvBlockSize, prefixSharing);
    }

    /** These limits with another KV cache size (0 for automatic) and block size. */
    public EngineLimits withKvCache(int kvCacheTokens, int kvBlockSize) {
        return new EngineLimits(maxSequences, maxStepTokens, kvCacheTokens, kvBlockSize, prefixSharing);
    }

    /** These limits with prefix sharing on or off. */
    public EngineLimits withPrefixSharing(boolean prefixSharing) {
        return new EngineLimits(maxSequences, maxStepTokens, kvCacheTokens, kvBlockSize, prefixSharing);
    }

    /**
     * The defaults, overridden by the backend options {@value #MAX_SEQUENCES_OPTION},
     * {@value #MAX_STEP_TOKENS_OPTION}, {@value #KV_CACHE_TOKENS_OPTION}, {@value #KV_BLOCK_SIZE_OPTION}
     * and {@value #PREFIX_SHARING_OPTION} where present. Other options are left to others.
     *
     * @throws IllegalArgumentException naming the option when its value is not valid
     */
    public static EngineLimits fromOptions(Map<String, String> options) {
        return new EngineLimits(intOption(options, MAX_SEQUENCES_OPTION, DEFAULT_MAX_SEQUENCES, 1, MAX_SEQUENCES),
                intOption(options, MAX_STEP_TOKENS_OPTION, DEFAULT_MAX_STEP_TOKENS, 1, MAX_STEP_TOKENS),
                intOption(options, KV_CACHE_TOKENS_OPTION, AUTO_KV_CACHE_TOKENS, 0, MAX_KV_CACHE_TOKENS),
                intOption(options, KV_BLOCK_SIZE_OPTION, KvBlockPool.DEFAULT_BLOCK_SIZE, 1, MAX_KV_BLOCK_SIZE),
                booleanOption(options, PREFIX_SHARING_OPTION, true));
    }

    private static int intOption(Map<String, String> options, String name, int fallback, int min, int max) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend option " + name + " must be an integer from " + min + " to "
                    + max + ", got '" + value + "'");
        }
    }

    private static boolean booleanOption(Map<String, String> options, String name, boolean fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("backend option " + name + " must be true or false, got '"
                    + value + "'");
        };
    }

    private static void checkRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be from " + min + " to " + max + ", got " + value);
        }
    }
}
