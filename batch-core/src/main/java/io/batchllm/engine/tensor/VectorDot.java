package io.batchllm.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of one F32 weight row with the activations of every token, vectorized.
 *
 * <p>Tokens are taken four at a time so that each weight vector loaded is used for four FMAs: with
 * several tokens the loads of the weight row, not the arithmetic, would otherwise be the limit. A
 * single token uses four accumulators instead, so that FMA latency does not serialize the loop
 * (engine-notes §8: one accumulator reaches only about half the FMA throughput on AVX2 hosts).
 */
final class VectorDot {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VectorDot() {
    }

    /**
     * {@code out[t*rows + r] = dot(w[0..cols), x[t*cols ..])} for every token t.
     */
    static void rowTimesTokens(float[] w, float[] x, int tokens, int cols, float[] out, int rows, int r) {
        int bound = F.loopBound(cols);
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            int x0 = t * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int i = 0; i < bound; i += L) {
                FloatVector wv = FloatVector.fromArray(F, w, i);
                a0 = wv.fma(FloatVector.fromArray(F, x, x0 + i), a0);
                a1 = wv.fma(FloatVector.fromArray(F, x, x1 + i), a1);
                a2 = wv.fma(FloatVector.fromArray(F, x, x2 + i), a2);
                a3 = wv.fma(FloatVector.fromArray(F, x, x3 + i), a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (int i = bound; i < cols; i++) {
                s0 += w[i] * x[x0 + i];
                s1 += w[i] * x[x1 + i];
                s2 += w[i] * x[x2 + i];
                s3 += w[i] * x[x3 + i];
            }
            out[t * rows + r] = s0;
            out[(t + 1) * rows + r] = s1;
            out[(t + 2) * rows + r] = s2;
            out[(t + 3) * rows + r] = s3;
        }
        for (; t < tokens; t++) {
            out[t * rows + r] = dot(w, x, t * cols, cols);
        }
    }

    /** {@code dot(w[0..n), x[xOff..xOff+n))} with four accumulators. */
    static float dot(float[] w, float[] x, int xOff, int n) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = 0;
        for (int bound4 = n - 4 * L; i <= bound4; i += 4 * L) {
            a0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromArray(F, w, i + L).fma(FloatVector.fromArray(F, x, xOff + i + L), a1);
            a2 = FloatVector.fromArray(F, w, i + 2 * L).fma(FloatVector.fromArray(F, x, xOff + i + 2 * L), a2);
            a3 = FloatVector.fromArray(F, w, i + 3 * L).fma(FloatVector.fromArray(F, x, xOff + i + 3 * L), a3);
        }
        for (int bound = F.loopBound(n); i < bound; i += L) {
            a0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w[i] * x[xOff + i];
        }
        return sum;
    }
}
