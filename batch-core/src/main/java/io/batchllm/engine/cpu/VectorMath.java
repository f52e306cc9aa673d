package io.batchllm.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and attention kernels of the forward pass, on F32 arrays with the Vector API
 * (matmuls live in {@code Matrix}). Every method takes offsets so that one flat array can hold all the
 * tokens of a step without per-token copies.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** {@link #sumLanes}'s steps: lane i takes lane i + L/2, then i + L/4, … (wrapping). */
    private static final VectorShuffle<Float>[] FOLDS = folds();

    private VectorMath() {
    }

    /** {@code sum(a[aOff+i] * b[bOff+i])} for {@code i < n}. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= L) {
            // Two accumulators hide the FMA latency (the loop is otherwise one dependency chain).
            FloatVector acc0 = FloatVector.zero(S);
            FloatVector acc1 = FloatVector.zero(S);
            int upper2 = n - 2 * L;
            for (; i <= upper2; i += 2 * L) {
                acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), acc1);
            }
            if (i <= n - L) {
                acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
                i += L;
            }
            sum = sumLanes(acc0.add(acc1));
        }
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /**
     * The sum of a vector's lanes in a fixed order: halves folded onto each other. Not
     * {@code reduceLanes(ADD)}, whose order the Vector API leaves open (the interpreter adds lane by
     * lane, compiled code in a tree), so that a dot product's rounding, and with it every logit, is the
     * same before and after the JIT compiles this method: part of batch invariance.
     */
    static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> fold : FOLDS) {
            v = v.add(v.rearrange(fold));
        }
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] folds() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] folds = new VectorShuffle[steps];
        for (int k = 0, half = L / 2; k < steps; k++, half /= 2) {
            folds[k] = VectorShuffle.iota(S, half, 1, true);
        }
        return folds;
    }

    /** {@code y[yOff+i] += a * x[xOff+i]} for {@code i < n}. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        if (upper > 0) {
            FloatVector va = FloatVector.broadcast(S, a);
            for (; i < upper; i += L) {
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                        .intoArray(y, yOff + i);
            }
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** {@code y[i] += x[i]} for {@code i < n}: the residual connection. */
    static void add(float[] y, float[] x, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, y, i).add(FloatVector.fromArray(S, x, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] += x[i];
        }
    }

    /** RMSNorm of one row: {@code out = x / sqrt(mean(x²) + eps) * weight}. */
    static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, float eps) {
        int n = weight.length;
        float mean = dot(x, xOff, x, xOff, n) / n;
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(scale).mul(FloatVector.fromArray(S, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * scale * weight[i];
        }
    }

    /** SwiGLU's gating over {@code [from, to)}: {@code gate[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + e^-g)}. */
    static void swiglu(float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** In-place softmax of {@code x[0, n)}, shifted by the maximum so that exp never overflows. */
    static void softmax(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[i] *= inv;
        }
    }
}
