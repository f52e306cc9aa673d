package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of Unicode code points, as sorted, disjoint, non-adjacent inclusive ranges: what
 * a regular expression's character class, {@code .} or literal stands for, before it is encoded as
 * UTF-8 bytes ({@link Utf8}).
 */
final class CodePointSet {
    static final int MAX = Character.MAX_CODE_POINT;
    static final CodePointSet EMPTY = new CodePointSet(new int[0]);
    /** Every code point but the surrogates, which UTF-8 cannot encode. */
    static final CodePointSet ALL = of(0, 0xD7FF).union(of(0xE000, MAX));

    /** lo0, hi0, lo1, hi1, …: sorted, disjoint and not adjacent. */
    private final int[] ranges;

    private CodePointSet(int[] ranges) {
        this.ranges = ranges;
    }

    /** The code points {@code lo} to {@code hi}, both included. */
    static CodePointSet of(int lo, int hi) {
        if (lo < 0 || hi > MAX || lo > hi) {
            throw new IllegalArgumentException("code point range " + lo + ".." + hi);
        }
        return new CodePointSet(new int[] {lo, hi});
    }

    /** The one code point {@code c}. */
    static CodePointSet of(int c) {
        return of(c, c);
    }

    /** The code points of {@code chars}. */
    static CodePointSet ofChars(String chars) {
        CodePointSet set = EMPTY;
        for (int i = 0; i < chars.length(); ) {
            int c = chars.codePointAt(i);
            set = set.union(of(c));
            i += Character.charCount(c);
        }
        return set;
    }

    int rangeCount() {
        return ranges.length / 2;
    }

    int lo(int i) {
        return ranges[2 * i];
    }

    int hi(int i) {
        return ranges[2 * i + 1];
    }

    boolean isEmpty() {
        return ranges.length == 0;
    }

    boolean contains(int c) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (c >= ranges[i] && c <= ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    CodePointSet union(CodePointSet other) {
        int[] all = new int[ranges.length + other.ranges.length];
        System.arraycopy(ranges, 0, all, 0, ranges.length);
        System.arraycopy(other.ranges, 0, all, ranges.length, other.ranges.length);
        return normalized(all);
    }

    /** Every code point of {@link #ALL} not in this set. */
    CodePointSet complement() {
        List<Integer> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                out.add(next);
                out.add(ranges[i] - 1);
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX) {
            out.add(next);
            out.add(MAX);
        }
        return new CodePointSet(out.stream().mapToInt(Integer::intValue).toArray()).intersect(ALL);
    }

    CodePointSet intersect(CodePointSet other) {
        List<Integer> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < ranges.length && j < other.ranges.length) {
            int lo = Math.max(ranges[i], other.ranges[j]);
            int hi = Math.min(ranges[i + 1], other.ranges[j + 1]);
            if (lo <= hi) {
                out.add(lo);
                out.add(hi);
            }
            if (ranges[i + 1] < other.ranges[j + 1]) {
                i += 2;
            } else {
                j += 2;
            }
        }
        return new CodePointSet(out.stream().mapToInt(Integer::intValue).toArray());
    }

    CodePointSet minus(CodePointSet other) {
        return intersect(other.complement());
    }

    private static CodePointSet normalized(int[] pairs) {
        int n = pairs.length / 2;
        long[] sorted = new long[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = (long) pairs[2 * i] << 32 | pairs[2 * i + 1];
        }
        Arrays.sort(sorted);
        int[] out = new int[pairs.length];
        int count = 0;
        for (long r : sorted) {
            int lo = (int) (r >>> 32);
            int hi = (int) r;
            if (count > 0 && lo <= out[count - 1] + 1) {
                out[count - 1] = Math.max(out[count - 1], hi);
            } else {
                out[count++] = lo;
                out[count++] = hi;
            }
        }
        return new CodePointSet(Arrays.copyOf(out, count));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CodePointSet s && Arrays.equals(s.ranges, ranges);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ranges);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < ranges.length; i += 2) {
            sb.append(i == 0 ? "" : ", ").append(Integer.toHexString(ranges[i]));
            if (ranges[i + 1] != ranges[i]) {
                sb.append('-').append(Integer.toHexString(ranges[i + 1]));
            }
        }
        return sb.append('}').toString();
    }
}
