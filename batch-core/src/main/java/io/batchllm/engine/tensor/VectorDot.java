package io.batchllm.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matmul micro-kernels: dot products of a few decoded F32 weight rows with a range of tokens'
 * activations, register-blocked so that each vector loaded feeds several FMAs.
 *
 * <p><b>Blocking.</b> Four rows by four tokens at a time: per step of {@code L} columns the kernel
 * loads four weight vectors and four activation vectors and issues sixteen FMAs into sixteen
 * accumulators (with AVX-512: 16 + 4 + 1 of the 32 vector registers). Loads, not FMAs, would be the
 * limit with one row and one token per inner loop (two loads per FMA). Leftover tokens go four rows
 * by one token; leftover rows (a row range that is not a multiple of four) one row by one token.
 *
 * <p><b>Batch invariance.</b> Every (row, token) product is computed in exactly the same order in
 * every kernel: one vector accumulator over columns {@code [0, loopBound)} in steps of {@code L},
 * reduced by {@link #sum} (a fixed tree), then the tail columns added one by one. So a token's
 * output does not depend on how many other tokens share the call, on which kernel it fell in, or on
 * the row range a thread was given. {@code FloatVector.reduceLanes(ADD)} is not used because its
 * order is unspecified (and on x86 it is a serial chain of scalar adds, slower than the tree).
 */
final class VectorDot {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows per micro-kernel; decoders fill this many rows of scratch at a time. */
    static final int ROW_BLOCK = 4;
    private static final int TOKEN_BLOCK = 4;
    /** Scratch floats {@link #rowsTimesTokens} needs: one vector accumulator per (row, token) of a block. */
    static final int PARTIALS = ROW_BLOCK * TOKEN_BLOCK * L;

    // Rotations by L/2, L/4, …, 1 lanes for the reduction tree; null where the species is too narrow.
    private static final VectorShuffle<Float> ROT8 = rotation(8);
    private static final VectorShuffle<Float> ROT4 = rotation(4);
    private static final VectorShuffle<Float> ROT2 = rotation(2);
    private static final VectorShuffle<Float> ROT1 = rotation(1);

    private VectorDot() {
    }

    private static VectorShuffle<Float> rotation(int by) {
        return by < L ? VectorShuffle.iota(F, by, 1, true) : null;
    }

    /**
     * The sum of a vector's lanes in a fixed order: add the vector rotated by half its length, then
     * by a quarter, … ; lane 0 ends up holding the total. Lanewise adds are exact IEEE operations in
     * compiled and interpreted code alike, so the result never depends on JIT state. Vectors of more
     * than 16 lanes are not produced by any x86 or ARM species today.
     */
    static float sum(FloatVector v) {
        if (L > 8) {
            v = v.add(v.rearrange(ROT8));
        }
        if (L > 4) {
            v = v.add(v.rearrange(ROT4));
        }
        if (L > 2) {
            v = v.add(v.rearrange(ROT2));
        }
        if (L > 1) {
            v = v.add(v.rearrange(ROT1));
        }
        return v.lane(0);
    }

    /**
     * {@code out[t*outStride + row0 + i] = dot(w[i*cols ..], x[t*cols ..])} for rows {@code i < n}
     * (at most {@link #ROW_BLOCK}) and tokens {@code t} in {@code [t0, t1)}. {@code partials} is
     * scratch of at least {@link #PARTIALS} floats.
     */
    static void rowsTimesTokens(float[] w, int n, int cols, float[] x, int t0, int t1, float[] out,
            int outStride, int row0, float[] partials) {
        if (n == ROW_BLOCK) {
            int t = t0;
            for (; t + TOKEN_BLOCK <= t1; t += TOKEN_BLOCK) {
                fourByFour(w, cols, x, t, out, outStride, row0, partials);
            }
            for (; t < t1; t++) {
                fourByOne(w, cols, x, t, out, outStride, row0);
            }
        } else {
            for (int i = 0; i < n; i++) {
                for (int t = t0; t < t1; t++) {
                    out[t * outStride + row0 + i] = dot(w, i * cols, x, t * cols, cols);
                }
            }
        }
    }

    /** Rows 0..3 of {@code w} times tokens t..t+3. */
    private static void fourByFour(float[] w, int cols, float[] x, int t, float[] out, int outStride, int row0,
            float[] partials) {
        int w0 = 0;
        int w1 = cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        int x0 = t * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += L) {
            FloatVector r0 = FloatVector.fromArray(F, w, w0 + i);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + i);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + i);
            FloatVector r3 = FloatVector.fromArray(F, w, w3 + i);
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a00 = r0.fma(v, a00);
            a10 = r1.fma(v, a10);
            a20 = r2.fma(v, a20);
            a30 = r3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = r0.fma(v, a01);
            a11 = r1.fma(v, a11);
            a21 = r2.fma(v, a21);
            a31 = r3.fma(v, a31);
            v = FloatVector.fromArray(F, x, x2 + i);
            a02 = r0.fma(v, a02);
            a12 = r1.fma(v, a12);
            a22 = r2.fma(v, a22);
            a32 = r3.fma(v, a32);
            v = FloatVector.fromArray(F, x, x3 + i);
            a03 = r0.fma(v, a03);
            a13 = r1.fma(v, a13);
            a23 = r2.fma(v, a23);
            a33 = r3.fma(v, a33);
        }
        // The sixteen reductions go through memory and one loop on purpose. Written as sixteen calls of
        // sum(...), the method outgrew C2's inlining budget (each Vector API call inlines hundreds of
        // bytecodes): sum was left out-of-line at some call sites, so their accumulators were boxed
        // into a fresh Float512Vector and float[] per call. The profile showed those allocations
        // in this kernel and forcing the inline raised aggregate decode at 32 sequences by about a
        // third. One call site stays inlined. Storing and reloading a vector is exact, so each
        // result is bit for bit what sum(aRT) gives, as in the other kernels.
        a00.intoArray(partials, 0);
        a10.intoArray(partials, L);
        a20.intoArray(partials, 2 * L);
        a30.intoArray(partials, 3 * L);
        a01.intoArray(partials, 4 * L);
        a11.intoArray(partials, 5 * L);
        a21.intoArray(partials, 6 * L);
        a31.intoArray(partials, 7 * L);
        a02.intoArray(partials, 8 * L);
        a12.intoArray(partials, 9 * L);
        a22.intoArray(partials, 10 * L);
        a32.intoArray(partials, 11 * L);
        a03.intoArray(partials, 12 * L);
        a13.intoArray(partials, 13 * L);
        a23.intoArray(partials, 14 * L);
        a33.intoArray(partials, 15 * L);
        for (int k = 0; k < ROW_BLOCK * TOKEN_BLOCK; k++) {
            int token = k / ROW_BLOCK;
            int row = k % ROW_BLOCK;
            float s = sum(FloatVector.fromArray(F, partials, k * L));
            out[(t + token) * outStride + row0 + row] = tail(s, w, row * cols, x, x0 + token * cols, bound, cols);
        }
    }

    /** Rows 0..3 of {@code w} times token t: four independent FMA chains, so latency does not serialize. */
    private static void fourByOne(float[] w, int cols, float[] x, int t, float[] out, int outStride, int row0) {
        int w1 = cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a0 = FloatVector.fromArray(F, w, i).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, w1 + i).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, w2 + i).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, w3 + i).fma(v, a3);
        }
        int o = t * outStride + row0;
        out[o] = tail(sum(a0), w, 0, x, x0, bound, cols);
        out[o + 1] = tail(sum(a1), w, w1, x, x0, bound, cols);
        out[o + 2] = tail(sum(a2), w, w2, x, x0, bound, cols);
        out[o + 3] = tail(sum(a3), w, w3, x, x0, bound, cols);
    }

    /** One row times one token, in the same order as the blocked kernels. */
    static float dot(float[] w, int wOff, float[] x, int xOff, int cols) {
        FloatVector a = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += L) {
            a = FloatVector.fromArray(F, w, wOff + i).fma(FloatVector.fromArray(F, x, xOff + i), a);
        }
        return tail(sum(a), w, wOff, x, xOff, bound, cols);
    }

    /** {@code s} plus the products of columns {@code [from, cols)}, one at a time. */
    private static float tail(float s, float[] w, int wOff, float[] x, int xOff, int from, int cols) {
        for (int i = from; i < cols; i++) {
            s += w[wOff + i] * x[xOff + i];
        }
        return s;
    }
}
