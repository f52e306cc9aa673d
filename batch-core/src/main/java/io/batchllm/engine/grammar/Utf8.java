package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * Code point sets as UTF-8 byte expressions: each range is split until the bytes of its first and
 * last code point differ only within per-position byte ranges, so one sequence of byte ranges
 * matches exactly its code points (the construction RE2 and Rust's regex use). Only well-formed
 * UTF-8 comes out: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
final class Utf8 {
    private static final int[] LENGTH_LIMITS = {0x7F, 0x7FF, 0xFFFF, CodePointSet.MAX};

    private Utf8() {
    }

    /**
     * The expression matching the UTF-8 encoding of exactly one code point of {@code set}.
     *
     * @throws GrammarException if the set is empty (nothing could match)
     */
    static Expr encode(CodePointSet set) {
        CodePointSet encodable = set.intersect(CodePointSet.ALL);
        List<Expr> options = new ArrayList<>();
        for (int i = 0; i < encodable.rangeCount(); i++) {
            int lo = encodable.lo(i);
            int hi = encodable.hi(i);
            // split at the boundaries where the encoded length changes
            for (int limit : LENGTH_LIMITS) {
                if (lo > hi) {
                    break;
                }
                if (lo <= limit) {
                    int end = Math.min(hi, limit);
                    split(lo, end, options);
                    lo = end + 1;
                }
            }
        }
        if (options.isEmpty()) {
            throw new GrammarException("a character class that matches no character");
        }
        return Expr.alt(options);
    }

    /** Adds the byte-range sequences of [lo, hi], whose code points all have one encoded length. */
    private static void split(int lo, int hi, List<Expr> out) {
        int length = length(lo);
        for (int i = 1; i < length; i++) {
            int mask = (1 << (6 * i)) - 1;
            if ((lo & ~mask) != (hi & ~mask)) {
                if ((lo & mask) != 0) {
                    split(lo, lo | mask, out);
                    split((lo | mask) + 1, hi, out);
                    return;
                }
                if ((hi & mask) != mask) {
                    split(lo, (hi & ~mask) - 1, out);
                    split(hi & ~mask, hi, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo);
        byte[] b = encode(hi);
        List<Expr> items = new ArrayList<>(a.length);
        for (int k = 0; k < a.length; k++) {
            items.add(Expr.bytes(a[k] & 0xFF, b[k] & 0xFF));
        }
        out.add(Expr.seq(items));
    }

    private static int length(int c) {
        return c <= 0x7F ? 1 : c <= 0x7FF ? 2 : c <= 0xFFFF ? 3 : 4;
    }

    private static byte[] encode(int c) {
        return new String(Character.toChars(c)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
