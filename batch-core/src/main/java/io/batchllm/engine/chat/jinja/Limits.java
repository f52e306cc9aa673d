package io.batchllm.engine.chat.jinja;

/**
 * Bounds on one render, so that no template can loop forever, allocate without bound or exhaust
 * the stack. Going past one fails the render with {@link JinjaException.Kind#LIMIT}.
 *
 * @param maxSteps statements and expressions evaluated
 * @param maxOutputChars characters of the rendered text, and of any one string built on the way
 * @param maxAllocated characters of all strings plus items of all lists and dicts built on the way
 * @param maxDepth nesting of macro calls, blocks and expressions being evaluated
 */
public record Limits(long maxSteps, long maxOutputChars, long maxAllocated, int maxDepth) {
    /**
     * The defaults: 20 million steps (a chat template needs thousands per message), 8 Mi
     * characters of output (a prompt that must still fit a model's context), 64 Mi characters or
     * items allocated, depth 600 (jinja2 itself stops near 180 nested macro calls).
     */
    public static final Limits DEFAULT = new Limits(20_000_000, 8L << 20, 64L << 20, 600);

    public Limits {
        if (maxSteps < 1 || maxOutputChars < 1 || maxAllocated < 1 || maxDepth < 1) {
            throw new IllegalArgumentException("every limit must be at least 1, got " + maxSteps + ", "
                    + maxOutputChars + ", " + maxAllocated + ", " + maxDepth);
        }
    }
}
