package io.batchllm.engine.chat.jinja;

/** Python's {@code range(start, stop, step)}, as the sandbox's {@code range} returns it. */
record PyRange(long start, long stop, long step) {

    long length() {
        if (step > 0 && start < stop) {
            return (stop - start + step - 1) / step;
        }
        if (step < 0 && start > stop) {
            return (start - stop - step - 1) / -step;
        }
        return 0;
    }

    long get(long i) {
        return start + i * step;
    }
}
