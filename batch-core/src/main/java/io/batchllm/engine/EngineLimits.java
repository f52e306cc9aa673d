package io.batchllm.engine;

import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.model.DeviceDefaults;
import io.batchllm.internal.Suggestions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How much work a {@link LocalEngine} takes on at once, and how its KV cache is laid out.
 *
 * <p>Every size defaults to {@value #AUTO}, "what the device suggests" ({@link
 * io.batchllm.engine.model.DeviceExecutor#defaults()}): a CPU and a GPU want very different batches.
 * {@link #resolve} turns the automatic values into the device's.
 *
 * @param maxSequences most sequences (choices) generating at once; more wait in line. Default
 *     {@value #AUTO}: the device's suggestion ({@value #DEFAULT_MAX_SEQUENCES} on the CPU); allowed 0
 *     to {@value #MAX_SEQUENCES}
 * @param maxStepTokens the token budget of one forward step: one token per decoding sequence first,
 *     then prompt chunks fill the rest, so a long prompt is prefilled over several steps beside the
 *     decodes. Default {@value #AUTO}: the device's suggestion ({@value #DEFAULT_MAX_STEP_TOKENS} on
 *     the CPU); allowed 0 to {@value #MAX_STEP_TOKENS}
 * @param kvCacheTokens token positions of the paged KV cache, reserved when the engine starts; 0 (the
 *     default) sizes it automatically: {@code maxSequences × context_length}, capped by the bytes the
 *     device offers ({@link DeviceDefaults#kvCacheBytes()}, a quarter of the heap on the CPU). Allowed
 *     0 to {@value #MAX_KV_CACHE_TOKENS}
 * @param kvBlockSize token positions per KV block. Default {@value KvBlockPool#DEFAULT_BLOCK_SIZE},
 *     allowed 1 to {@value #MAX_KV_BLOCK_SIZE}
 * @param prefixSharing whether requests whose prompts start alike share the KV blocks of that prefix
 *     (computed once). Default true
 */
public record EngineLimits(int maxSequences, int maxStepTokens, int kvCacheTokens, int kvBlockSize,
                           boolean prefixSharing) {

    /** A size meaning "what the device suggests" ({@link #resolve}). */
    public static final int AUTO = 0;
    /** The CPU's suggested {@link #maxSequences()}: enough to keep its matmuls weight-read-bound, not more. */
    public static final int DEFAULT_MAX_SEQUENCES = 32;
    /** Largest {@link #maxSequences()}. */
    public static final int MAX_SEQUENCES = 4096;
    /** The CPU's suggested {@link #maxStepTokens()}. */
    public static final int DEFAULT_MAX_STEP_TOKENS = 512;
    /** Largest {@link #maxStepTokens()}. */
    public static final int MAX_STEP_TOKENS = 1 << 20;
    /** {@link #kvCacheTokens()} meaning "size it automatically". */
    public static final int AUTO_KV_CACHE_TOKENS = AUTO;
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
    /** Every backend option these limits read. */
    public static final Set<String> OPTIONS = Set.of(MAX_SEQUENCES_OPTION, MAX_STEP_TOKENS_OPTION,
            KV_CACHE_TOKENS_OPTION, KV_BLOCK_SIZE_OPTION, PREFIX_SHARING_OPTION);

    /** The defaults: every size automatic, blocks of {@value KvBlockPool#DEFAULT_BLOCK_SIZE}, prefix sharing on. */
    public static final EngineLimits DEFAULTS = new EngineLimits(AUTO, AUTO, AUTO_KV_CACHE_TOKENS,
            KvBlockPool.DEFAULT_BLOCK_SIZE, true);

    public EngineLimits {
        checkRange(MAX_SEQUENCES_OPTION, maxSequences, 0, MAX_SEQUENCES);
        checkRange(MAX_STEP_TOKENS_OPTION, maxStepTokens, 0, MAX_STEP_TOKENS);
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
     * These limits with every automatic size replaced by the device's suggestion (the KV cache stays
     * automatic; the engine sizes it from {@link DeviceDefaults#kvCacheBytes()}).
     */
    public EngineLimits resolve(DeviceDefaults device) {
        return new EngineLimits(maxSequences == AUTO ? Math.min(MAX_SEQUENCES, device.maxSequences()) : maxSequences,
                maxStepTokens == AUTO ? Math.min(MAX_STEP_TOKENS, device.maxStepTokens()) : maxStepTokens,
                kvCacheTokens, kvBlockSize, prefixSharing);
    }

    /** {@link #fromOptions(Map, Set)} for a backend with no options of its own. */
    public static EngineLimits fromOptions(Map<String, String> options) {
        return fromOptions(options, Set.of());
    }

    /**
     * The defaults, overridden by the backend options {@value #MAX_SEQUENCES_OPTION},
     * {@value #MAX_STEP_TOKENS_OPTION}, {@value #KV_CACHE_TOKENS_OPTION}, {@value #KV_BLOCK_SIZE_OPTION}
     * and {@value #PREFIX_SHARING_OPTION} where present.
     *
     * @param backendOptions the options the backend reads itself besides these (a device's own
     *     settings); any other key is refused
     * @throws IllegalArgumentException naming the option when its value is not valid, or when it is
     *     not an option at all (with the accepted ones, and the closest one)
     */
    public static EngineLimits fromOptions(Map<String, String> options, Set<String> backendOptions) {
        for (String key : new TreeSet<>(options.keySet())) {
            if (!OPTIONS.contains(key) && !backendOptions.contains(key)) {
                List<String> known = new ArrayList<>(new TreeSet<>(OPTIONS));
                known.addAll(new TreeSet<>(backendOptions));
                String closest = Suggestions.closest(key, known);
                throw new IllegalArgumentException("unknown backend option '" + key + "'"
                        + (closest == null ? "" : " (did you mean " + closest + "?)") + "; the options are "
                        + String.join(", ", known));
            }
        }
        return new EngineLimits(intOption(options, MAX_SEQUENCES_OPTION, AUTO, 1, MAX_SEQUENCES),
                intOption(options, MAX_STEP_TOKENS_OPTION, AUTO, 1, MAX_STEP_TOKENS),
                intOption(options, KV_CACHE_TOKENS_OPTION, AUTO_KV_CACHE_TOKENS, 0, MAX_KV_CACHE_TOKENS),
                intOption(options, KV_BLOCK_SIZE_OPTION, KvBlockPool.DEFAULT_BLOCK_SIZE, 1, MAX_KV_BLOCK_SIZE),
                booleanOption(options, PREFIX_SHARING_OPTION, true));
    }

    private static int intOption(Map<String, String> options, String name, int fallback, int min, int max) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend option " + name + " must be an integer from " + min + " to "
                    + max + ", got '" + value + "'");
        }
        checkRange(name, parsed, min, max);
        return parsed;
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
