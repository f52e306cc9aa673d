package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * Decimal integers in a range as a byte expression (no leading zeros, no {@code -0}): the range is
 * split by digit count, then by leading digit, as a regex for a numeric range is written by hand.
 */
final class IntegerRanges {
    private IntegerRanges() {
    }

    /** The integers {@code lo} to {@code hi}, both included ({@code lo <= hi}, within ±10^18). */
    static Expr between(long lo, long hi) {
        List<Expr> options = new ArrayList<>();
        if (lo < 0) {
            // -1 .. -|lo|, and not -0
            options.add(Expr.seq(Expr.literal("-"), naturals(Math.max(1, -Math.min(hi, -1)), -lo)));
        }
        if (hi >= 0) {
            options.add(naturals(Math.max(lo, 0), hi));
        }
        return Expr.alt(options);
    }

    /** Non-negative integers {@code a} to {@code b}, {@code 0 <= a <= b}. */
    private static Expr naturals(long a, long b) {
        List<Expr> options = new ArrayList<>();
        int first = Long.toString(a).length();
        int last = Long.toString(b).length();
        for (int length = first; length <= last; length++) {
            long lo = Math.max(a, length == 1 ? 0 : pow10(length - 1));
            long hi = Math.min(b, pow10(length) - 1);
            if (lo <= hi) {
                options.add(sameLength(Long.toString(lo), Long.toString(hi)));
            }
        }
        return Expr.alt(options);
    }

    /** Digit strings from {@code x} to {@code y}, both of one length. */
    private static Expr sameLength(String x, String y) {
        if (x.isEmpty()) {
            return Expr.EMPTY;
        }
        char a = x.charAt(0);
        char b = y.charAt(0);
        String xs = x.substring(1);
        String ys = y.substring(1);
        if (a == b) {
            return Expr.seq(Expr.literal(String.valueOf(a)), sameLength(xs, ys));
        }
        if (xs.chars().allMatch(c -> c == '0') && ys.chars().allMatch(c -> c == '9')) {
            return Expr.seq(Expr.bytes(a, b), anyDigits(xs.length()));
        }
        List<Expr> options = new ArrayList<>();
        options.add(Expr.seq(Expr.literal(String.valueOf(a)), sameLength(xs, "9".repeat(xs.length()))));
        if (a + 1 <= b - 1) {
            options.add(Expr.seq(Expr.bytes(a + 1, b - 1), anyDigits(xs.length())));
        }
        options.add(Expr.seq(Expr.literal(String.valueOf(b)), sameLength("0".repeat(ys.length()), ys)));
        return Expr.alt(options);
    }

    private static Expr anyDigits(int n) {
        return n == 0 ? Expr.EMPTY : new Expr.Repeat(Expr.bytes('0', '9'), n, n);
    }

    static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
