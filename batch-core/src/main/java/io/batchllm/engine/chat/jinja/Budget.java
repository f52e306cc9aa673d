package io.batchllm.engine.chat.jinja;

/** What one render has used of its {@link Limits}. Not thread safe: one per render. */
final class Budget {
    private final Limits limits;
    private long steps;
    private long allocated;
    private int depth;

    Budget(Limits limits) {
        this.limits = limits;
    }

    void step() {
        if (++steps > limits.maxSteps()) {
            throw JinjaException.limit("rendering took more than " + limits.maxSteps()
                    + " steps; the template loops too long");
        }
    }

    /** Charges a string of {@code length} characters about to be built. */
    void chars(long length) {
        if (length > limits.maxOutputChars()) {
            throw JinjaException.limit("the template built a string of " + length + " characters, more than the "
                    + limits.maxOutputChars() + " allowed");
        }
        allocate(length);
    }

    /** Charges a list, tuple or dict of {@code count} items about to be built. */
    void elements(long count) {
        allocate(count);
    }

    private void allocate(long n) {
        allocated += n;
        if (allocated > limits.maxAllocated()) {
            throw JinjaException.limit("rendering built more than " + limits.maxAllocated()
                    + " characters and items in all");
        }
    }

    void enter() {
        if (++depth > limits.maxDepth()) {
            throw JinjaException.limit("rendering nested deeper than " + limits.maxDepth()
                    + " levels (macro calls, blocks, expressions)");
        }
    }

    void leave() {
        depth--;
    }

    long maxOutputChars() {
        return limits.maxOutputChars();
    }
}
