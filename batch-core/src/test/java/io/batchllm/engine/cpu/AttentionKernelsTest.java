package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The attention kernels of {@link VectorMath}: exact orders where batch invariance needs them, accuracy. */
class AttentionKernelsTest {
    private final Random random = new Random(42);

    private float[] randoms(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 2 - 1;
        }
        return a;
    }

    @Test
    void scoresAreTheFixedOrderDotAndDoNotDependOnWhichOtherPositionsAreScored() {
        int headDim = 67; // not a multiple of 4: the chains have uneven lengths
        int stride = 45;  // positions per K row (a block size that is no multiple of any vector length)
        float[] q = randoms(headDim + 3);
        float[] kt = randoms(5 + headDim * stride);
        float[] all = new float[stride];
        VectorMath.transposedScores(q, 3, kt, 5, stride, stride, headDim, 0.125f, all, 0);
        for (int j = 0; j < stride; j++) {
            // Written out independently: chains over d mod 4, then (c0 + c1) + (c2 + c3), then the scale.
            float[] c = new float[4];
            for (int d = 0; d < headDim; d++) {
                c[d % 4] = Math.fma(kt[5 + d * stride + j], q[3 + d], c[d % 4]);
            }
            float expected = ((c[0] + c[1]) + (c[2] + c[3])) * 0.125f;
            assertEquals(expected, all[j], 0f, "position " + j + " scored among " + stride);
            float[] alone = new float[1];
            VectorMath.transposedScores(q, 3, kt, 5 + j, stride, 1, headDim, 0.125f, alone, 0);
            assertEquals(expected, alone[0], 0f, "position " + j + " scored alone");
        }
    }

    @Test
    void weightedSumIsBitIdenticalToAnAxpyPerPosition() {
        int width = 64 + 3;
        int stride = 70;
        int n = 13;
        float[] w = randoms(n);
        float[] v = randoms(n * stride);
        float[] start = randoms(width);
        float[] expected = start.clone();
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < width; i++) {
                // The first 64 go through vector FMAs, the 3 left over through axpy's scalar tail.
                expected[i] = i < 64 ? Math.fma(v[j * stride + i], w[j], expected[i])
                        : expected[i] + w[j] * v[j * stride + i];
            }
        }
        float[] out = start.clone();
        VectorMath.weightedSum(w, 0, v, 0, stride, n, out, 0, width);
        for (int i = 0; i < width; i++) {
            assertEquals(expected[i], out[i], 0f, "output " + i);
        }
    }

    @Test
    void softmaxMatchesDoublePrecisionForEveryLength() {
        for (int n = 1; n <= 70; n++) {
            float[] x = randoms(n);
            for (int i = 0; i < n; i++) {
                x[i] *= 40; // differences up to 80: exp down to about e^-80
            }
            // The shift is a float subtraction in the kernel too; only exp, the sum and the division are
            // compared with double precision.
            float max = Float.NEGATIVE_INFINITY;
            for (float f : x) {
                max = Math.max(max, f);
            }
            double sum = 0;
            for (float f : x) {
                sum += Math.exp((float) (f - max));
            }
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = (float) (Math.exp((float) (x[i] - max)) / sum);
            }
            VectorMath.softmax(x, n);
            for (int i = 0; i < n; i++) {
                assertEquals(expected[i], x[i], 2e-6f * expected[i] + 1e-37f,
                        "element " + i + " of " + n);
            }
        }
    }
}
