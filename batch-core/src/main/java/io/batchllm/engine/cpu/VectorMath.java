package io.batchllm.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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

    /** √(2/π) and the cubic coefficient of the tanh approximation of GELU (ggml's constants). */
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
    private static final float GELU_COEF_A = 0.044715f;

    /**
     * GeGLU's gating over {@code [from, to)} (Gemma): {@code gate[i] = gelu(gate[i]) * up[i]} with the
     * tanh approximation {@code gelu(g) = g/2 · (1 + tanh(√(2/π)·g·(1 + 0.044715·g²)))} that Gemma was
     * trained with (PyTorch's {@code gelu_pytorch_tanh}). {@link StrictMath#tanh}, not {@code Math.tanh}:
     * the JDK may compute the latter differently in interpreted and compiled code, and a value must
     * not depend on when the JIT compiled this (batch invariance).
     */
    static void geglu(float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            float t = (float) StrictMath.tanh(SQRT_2_OVER_PI * g * (1.0f + GELU_COEF_A * g * g));
            gate[i] = 0.5f * g * (1.0f + t) * up[i];
        }
    }

    /**
     * Tanh soft-capping of {@code x[from, to)} in place: {@code x = cap · tanh(x / cap)}, which keeps
     * every value inside (−cap, cap) while leaving small ones almost unchanged (Gemma 2's attention
     * scores and final logits). Computed as ggml does, {@code x · (1/cap)} first; {@link StrictMath}
     * for the reason {@link #geglu} gives.
     */
    static void softcap(float[] x, int from, int to, float cap) {
        float inv = 1f / cap;
        for (int i = from; i < to; i++) {
            x[i] = (float) StrictMath.tanh(x[i] * inv) * cap;
        }
    }

    /** {@code x[off+i] *= factor} for {@code i < n}. */
    static void scale(float[] x, int off, int n, float factor) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(factor).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= factor;
        }
    }

    /**
     * Attention scores for {@code n} consecutive key positions at once:
     * {@code out[outOff+j] = scale * sum_d q[qOff+d] * kt[ktOff + d*stride + j]} for {@code j < n}.
     *
     * <p>The keys are stored transposed ({@code kt[d][j]}, see {@code CpuKvStore}), so one vector holds
     * dimension {@code d} of {@code L} positions: a broadcast of {@code q[d]} and one FMA advance
     * {@code L} dot products together, and no lane ever has to be summed with another (the per-position
     * horizontal reduction was most of the old per-position dot's cost).
     *
     * <p>Each lane is its own dot product in a fixed order: four FMA chains over {@code d ≡ 0, 1, 2, 3
     * (mod 4)} in ascending {@code d} (four chains hide the FMA latency), then
     * {@code (c0 + c1) + (c2 + c3)}, times {@code scale}. The positions that do not fill a whole vector
     * run the same operations in scalar code ({@link Math#fma} rounds exactly like a vector lane's FMA),
     * so a score does not depend on where its position falls in a block or on the block size: batch
     * invariance.
     */
    static void transposedScores(float[] q, int qOff, float[] kt, int ktOff, int stride, int n, int headDim,
                                 float scale, float[] out, int outOff) {
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector c0 = FloatVector.zero(S);
            FloatVector c1 = FloatVector.zero(S);
            FloatVector c2 = FloatVector.zero(S);
            FloatVector c3 = FloatVector.zero(S);
            int base = ktOff + j;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                c0 = FloatVector.fromArray(S, kt, base + d * stride).fma(FloatVector.broadcast(S, q[qOff + d]), c0);
                c1 = FloatVector.fromArray(S, kt, base + (d + 1) * stride).fma(FloatVector.broadcast(S, q[qOff + d + 1]), c1);
                c2 = FloatVector.fromArray(S, kt, base + (d + 2) * stride).fma(FloatVector.broadcast(S, q[qOff + d + 2]), c2);
                c3 = FloatVector.fromArray(S, kt, base + (d + 3) * stride).fma(FloatVector.broadcast(S, q[qOff + d + 3]), c3);
            }
            if (d < headDim) {
                c0 = FloatVector.fromArray(S, kt, base + d * stride).fma(FloatVector.broadcast(S, q[qOff + d]), c0);
            }
            if (d + 1 < headDim) {
                c1 = FloatVector.fromArray(S, kt, base + (d + 1) * stride).fma(FloatVector.broadcast(S, q[qOff + d + 1]), c1);
            }
            if (d + 2 < headDim) {
                c2 = FloatVector.fromArray(S, kt, base + (d + 2) * stride).fma(FloatVector.broadcast(S, q[qOff + d + 2]), c2);
            }
            c0.add(c1).add(c2.add(c3)).mul(scale).intoArray(out, outOff + j);
        }
        for (; j < n; j++) {
            out[outOff + j] = scalarScore(q, qOff, kt, ktOff + j, stride, headDim, scale);
        }
    }

    /** One lane of {@link #transposedScores}, with the same operations in the same order. */
    private static float scalarScore(float[] q, int qOff, float[] kt, int ktOff, int stride, int headDim,
                                     float scale) {
        float c0 = 0f;
        float c1 = 0f;
        float c2 = 0f;
        float c3 = 0f;
        for (int d = 0; d < headDim; d += 4) {
            c0 = Math.fma(kt[ktOff + d * stride], q[qOff + d], c0);
            if (d + 1 < headDim) {
                c1 = Math.fma(kt[ktOff + (d + 1) * stride], q[qOff + d + 1], c1);
            }
            if (d + 2 < headDim) {
                c2 = Math.fma(kt[ktOff + (d + 2) * stride], q[qOff + d + 2], c2);
            }
            if (d + 3 < headDim) {
                c3 = Math.fma(kt[ktOff + (d + 3) * stride], q[qOff + d + 3], c3);
            }
        }
        return ((c0 + c1) + (c2 + c3)) * scale;
    }

    /**
     * {@code out[outOff+i] += sum_j w[wOff+j] * v[vOff + j*stride + i]} for {@code i < width}, {@code j < n}:
     * an attention head's weighted sum over {@code n} consecutive slots of one block.
     *
     * <p>Four vectors of the output stay in registers while all {@code n} positions are added, instead
     * of loading and storing the output once per position (an axpy per position). Each lane still
     * runs {@code acc = fma(v, w, acc)} over the positions in ascending order, exactly what the axpy
     * per position did (a store and reload between blocks is exact), so the values are unchanged.
     */
    static void weightedSum(float[] w, int wOff, float[] v, int vOff, int stride, int n,
                            float[] out, int outOff, int width) {
        int i = 0;
        for (; i + 4 * L <= width; i += 4 * L) {
            int o = outOff + i;
            FloatVector a0 = FloatVector.fromArray(S, out, o);
            FloatVector a1 = FloatVector.fromArray(S, out, o + L);
            FloatVector a2 = FloatVector.fromArray(S, out, o + 2 * L);
            FloatVector a3 = FloatVector.fromArray(S, out, o + 3 * L);
            for (int j = 0, src = vOff + i; j < n; j++, src += stride) {
                FloatVector wj = FloatVector.broadcast(S, w[wOff + j]);
                a0 = FloatVector.fromArray(S, v, src).fma(wj, a0);
                a1 = FloatVector.fromArray(S, v, src + L).fma(wj, a1);
                a2 = FloatVector.fromArray(S, v, src + 2 * L).fma(wj, a2);
                a3 = FloatVector.fromArray(S, v, src + 3 * L).fma(wj, a3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + L);
            a2.intoArray(out, o + 2 * L);
            a3.intoArray(out, o + 3 * L);
        }
        // A head width that is not a multiple of 4L: the rest position by position, as axpy does.
        if (i < width) {
            for (int j = 0; j < n; j++) {
                axpy(w[wOff + j], v, vOff + j * stride + i, out, outOff + i, width - i);
            }
        }
    }

    /**
     * In-place softmax of {@code x[0, n)}, shifted by the maximum so that exp never overflows, all of it
     * on vectors: the maximum (order-free), {@link #expNonPositive} per vector, the sum in lanes, then
     * folded by {@link #sumLanes}, and the scaling. The last partial vector goes through the same
     * operations under a mask, so every element and the sum depend only on {@code x} and {@code n}
     * (a sequence's own scores), never on the batch.
     */
    static void softmax(float[] x, int n) {
        int upper = S.loopBound(n);
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < upper; i += L) {
            m = m.max(FloatVector.fromArray(S, x, i));
        }
        if (i < n) {
            VectorMask<Float> tail = S.indexInRange(i, n);
            m = m.max(FloatVector.fromArray(S, x, i, tail).blend(Float.NEGATIVE_INFINITY, tail.not()));
        }
        FloatVector max = FloatVector.broadcast(S, m.reduceLanes(VectorOperators.MAX));
        FloatVector sum = FloatVector.zero(S);
        for (i = 0; i < upper; i += L) {
            FloatVector e = expNonPositive(FloatVector.fromArray(S, x, i).sub(max));
            e.intoArray(x, i);
            sum = sum.add(e);
        }
        VectorMask<Float> tail = S.indexInRange(i, n);
        if (i < n) {
            FloatVector e = expNonPositive(FloatVector.fromArray(S, x, i, tail).sub(max));
            e.intoArray(x, i, tail);
            sum = sum.add(e.blend(0f, tail.not()));
        }
        float inv = 1f / sumLanes(sum);
        for (i = 0; i < upper; i += L) {
            FloatVector.fromArray(S, x, i).mul(inv).intoArray(x, i);
        }
        if (i < n) {
            FloatVector.fromArray(S, x, i, tail).mul(inv).intoArray(x, i, tail);
        }
    }

    /**
     * {@code e^x} for {@code x <= 0} on a vector, relative error below 2e-6, largest far from 0 where the
     * terms barely count (the Cephes {@code expf} scheme,
     * as ggml uses): {@code x = k·ln2 + r} with {@code k} rounded to nearest and {@code ln2} split in two
     * for an exact-enough {@code r}, a degree-6 polynomial for {@code e^r}, and {@code 2^k} built in the
     * exponent bits. {@code x} below {@code -87.3} is clamped there (the result, about 1e-38, is
     * negligible next to the softmax's largest term, 1).
     *
     * <p>Only exactly rounded operations (add, multiply, FMA, an exact float-to-int conversion, shifts)
     * are used, so a lane's result is the same compiled or interpreted, unlike {@code lanewise(EXP)}:
     * part of batch invariance. And it is one vector pass instead of a {@code Math.exp} call per score.
     */
    static FloatVector expNonPositive(FloatVector x) {
        x = x.max(-87.33654f);
        // Round x·log2(e) to the nearest integer: adding 1.5·2^23 pushes the fraction out of the float.
        FloatVector k = x.mul(1.44269504088896341f).add(12582912f).sub(12582912f);
        FloatVector r = k.fma(FloatVector.broadcast(S, -0.693359375f), x).add(k.mul(2.12194440e-4f));
        FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f)
                .fma(r, FloatVector.broadcast(S, 1.3981999507e-3f))
                .fma(r, FloatVector.broadcast(S, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(S, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(S, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats());
    }
}
