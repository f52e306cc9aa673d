package io.batchllm.engine.chat.jinja;

/** Python's slice arithmetic ({@code slice.indices}) for {@code seq[start:stop:step]}. */
final class Slices {
    private Slices() {
    }

    /** The indices a slice selects from a sequence of {@code length} items, in order. */
    static int[] indices(int length, Long start, Long stop, Long step) {
        long st = step == null ? 1 : step;
        if (st == 0) {
            throw JinjaException.runtime("ValueError", "slice step cannot be zero");
        }
        long lower = st < 0 ? -1 : 0;
        long upper = st < 0 ? length - 1 : length;
        long from = start == null ? (st < 0 ? upper : lower) : clamp(start, length, lower, upper);
        long to = stop == null ? (st < 0 ? lower : upper) : clamp(stop, length, lower, upper);
        int count = 0;
        if (st > 0 && from < to) {
            count = (int) ((to - from + st - 1) / st);
        } else if (st < 0 && from > to) {
            count = (int) ((from - to - st - 1) / -st);
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = (int) (from + i * st);
        }
        return out;
    }

    private static long clamp(long bound, int length, long lower, long upper) {
        long b = bound < 0 ? bound + length : bound;
        return Math.max(lower, Math.min(upper, b));
    }
}
