package io.batchllm.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.gguf.GgufWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every tensor type through the whole path: values written by {@link GgufWriter}, read back by
 * {@link GgufFile}, decoded by {@link Dequantize} and multiplied by {@link Matrix}.
 */
class MatrixKernelsTest {
    private static final int ROWS = 7;

    @TempDir
    Path dir;

    /** Weights like a model's (N(0, 0.02)) with a few outliers, which stress the per-block scales. */
    private static float[] weights(int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
            if (rnd.nextInt(97) == 0) {
                w[i] *= 12;
            }
        }
        return w;
    }

    private static int colsFor(GgmlType type) {
        // 512 = two K-quant super-blocks; the other types also get a length that is not a multiple of
        // any vector width, so the kernels' tails are exercised.
        return switch (type.blockSize()) {
            case 256 -> 512;
            case 32 -> 32 * 13;
            default -> 517;
        };
    }

    private GgufFile writeAndOpen(GgmlType type, int cols, float[] values) {
        Path p = dir.resolve(type + ".gguf");
        new GgufWriter().addTensor("w", type, new long[] {cols, ROWS}, values).write(p);
        return GgufFile.open(p);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void decodedRowsAreTheWrittenValuesWithinTheTypesQuantizationError(GgmlType type) {
        int cols = colsFor(type);
        float[] original = weights(ROWS, cols, 42);
        try (GgufFile g = writeAndOpen(type, cols, original)) {
            GgufTensor t = g.requireTensor("w");
            assertEquals(type, t.type());
            float[] decoded = Dequantize.toFloat(t);
            int group = errorGroup(type);
            for (int start = 0; start < original.length; start += group) {
                float amax = 0;
                float lo = 0;
                float hi = 0;
                for (int i = start; i < start + group; i++) {
                    amax = Math.max(amax, Math.abs(original[i]));
                    lo = Math.min(lo, original[i]);
                    hi = Math.max(hi, original[i]);
                }
                for (int i = start; i < start + group; i++) {
                    double bound = bound(type, original[i], amax, hi - lo);
                    double err = Math.abs(decoded[i] - original[i]);
                    assertTrue(err <= bound, type + " value " + i + ": wrote " + original[i] + ", read "
                            + decoded[i] + ", error " + err + " > bound " + bound);
                }
            }
        }
    }

    /** Values whose error bound is computed together: a block (super-block for the K-quants). */
    private static int errorGroup(GgmlType type) {
        return type.blockSize();
    }

    /**
     * The largest error each encoding may make. Q8_0 rounds to steps of amax/127 (half a step, plus the
     * f16 rounding of d times up to 127 steps); Q4_0 maps the largest magnitude to −8 and clips its
     * opposite at +7, so a full step of amax/8 is possible. The K-quants round each sub-block's scale
     * to 6 (Q4_K) or 8 (Q6_K) bits relative to the super-block's largest, and the values re-quantized
     * against a rounded-down scale can clip at the top level; so allow one step of the super-block's
     * coarsest grid: range/15 for Q4_K's 16 affine levels over [min(0, min), max], amax/31 for Q6_K's
     * signed 64 levels.
     */
    private static double bound(GgmlType type, float x, float amax, float range) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> Math.abs(x) * 0x1p-11 + 0x1p-25;
            case BF16 -> Math.abs(x) * 0x1p-8;
            case Q8_0 -> amax / 127 * (0.5 + 127 * 0x1p-11) * 1.001;
            case Q4_0 -> amax / 8 * (1 + 8 * 0x1p-11) * 1.001;
            case Q4_K -> range / 15;
            case Q6_K -> amax / 31;
            case Q4_1 -> range / 15 * 0.6 + amax * 0x1p-10;
            case Q5_0 -> amax / 16 * (1 + 16 * 0x1p-11) * 1.001;
            case Q5_1 -> range / 31 * 0.6 + amax * 0x1p-10;
            case Q2_K -> range / 3;
            case Q3_K -> amax / 3;
            case Q5_K -> range / 31;
            case IQ4_NL, IQ4_XS -> amax / 8;
        };
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matrixRowsAreBitIdenticalToTheScalarReference(GgmlType type) {
        int cols = colsFor(type);
        try (GgufFile g = writeAndOpen(type, cols, weights(ROWS, cols, 7))) {
            GgufTensor t = g.requireTensor("w");
            Matrix m = Matrix.of(t);
            assertEquals(ROWS, m.rows());
            assertEquals(cols, m.cols());
            assertEquals(type, m.type());
            for (int r = 0; r < ROWS; r++) {
                float[] expected = new float[cols + 3];
                float[] actual = new float[cols + 3];
                Dequantize.dequantizeRow(t, r, expected, 3);
                m.dequantizeRow(r, actual, 3);
                assertArrayEquals(expected, actual, type + " row " + r);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matmulMatchesADoublePrecisionDotOfTheDecodedRows(GgmlType type) {
        int cols = colsFor(type);
        try (GgufFile g = writeAndOpen(type, cols, weights(ROWS, cols, 99))) {
            GgufTensor t = g.requireTensor("w");
            Matrix m = Matrix.of(t);
            float[] w = Dequantize.toFloat(t);
            for (int tokens : new int[] {1, 5}) {
                SplittableRandom rnd = new SplittableRandom(tokens);
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] out = new float[tokens * ROWS];
                m.matmul(x, tokens, out, 0, ROWS);
                for (int tok = 0; tok < tokens; tok++) {
                    for (int r = 0; r < ROWS; r++) {
                        double exact = 0;
                        double magnitude = 0;
                        for (int c = 0; c < cols; c++) {
                            exact += (double) w[r * cols + c] * x[tok * cols + c];
                            magnitude += Math.abs((double) w[r * cols + c] * x[tok * cols + c]);
                        }
                        // F32 accumulation of `cols` terms: error grows with the sum of magnitudes.
                        double tolerance = 1e-5 * magnitude + 1e-7;
                        assertEquals(exact, out[tok * ROWS + r], tolerance,
                                type + " tokens=" + tokens + " token " + tok + " row " + r);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matmulWritesOnlyItsRowRangeAndTheSameValuesAsAFullCall(GgmlType type) {
        int cols = colsFor(type);
        try (GgufFile g = writeAndOpen(type, cols, weights(ROWS, cols, 5))) {
            Matrix m = Matrix.of(g.requireTensor("w"));
            int tokens = 6;
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i);
            }
            float[] full = new float[tokens * ROWS];
            m.matmul(x, tokens, full, 0, ROWS);
            float[] part = new float[tokens * ROWS];
            Arrays.fill(part, Float.NaN);
            m.matmul(x, tokens, part, 2, 5);
            for (int tok = 0; tok < tokens; tok++) {
                for (int r = 0; r < ROWS; r++) {
                    float v = part[tok * ROWS + r];
                    if (r >= 2 && r < 5) {
                        assertEquals(full[tok * ROWS + r], v, "token " + tok + " row " + r);
                    } else {
                        assertTrue(Float.isNaN(v), "row " + r + " is outside the range but was written");
                    }
                }
            }
        }
    }

    /**
     * Batch invariance at the kernel level: a token's outputs are bit for bit the same whether it is
     * multiplied alone, among 31 others (where it lands in a four-token block), past a token tile
     * boundary, or with a row range split at a point that is not a multiple of the row block.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void aTokensOutputDoesNotDependOnTheOtherTokensOrTheRowSplit(GgmlType type) {
        int cols = colsFor(type);
        try (GgufFile g = writeAndOpen(type, cols, weights(ROWS, cols, 11))) {
            Matrix m = Matrix.of(g.requireTensor("w"));
            int many = RowDecodingMatrix.tokenTile(cols) + 6;
            SplittableRandom rnd = new SplittableRandom(3);
            float[] x = new float[many * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] all = new float[many * ROWS];
            m.matmul(x, many, all, 0, ROWS);
            float[] of32 = new float[32 * ROWS];
            m.matmul(x, 32, of32, 0, ROWS);
            float[] split = new float[32 * ROWS];
            m.matmul(x, 32, split, 0, 3);
            m.matmul(x, 32, split, 3, ROWS);
            for (int tok : new int[] {0, 1, 5, 17, 30, 31, many - 1}) {
                float[] alone = new float[ROWS];
                m.matmul(Arrays.copyOfRange(x, tok * cols, (tok + 1) * cols), 1, alone, 0, ROWS);
                assertArrayEquals(alone, Arrays.copyOfRange(all, tok * ROWS, (tok + 1) * ROWS),
                        type + " token " + tok + " among " + many);
                if (tok < 32) {
                    assertArrayEquals(alone, Arrays.copyOfRange(of32, tok * ROWS, (tok + 1) * ROWS),
                            type + " token " + tok + " among 32");
                    assertArrayEquals(alone, Arrays.copyOfRange(split, tok * ROWS, (tok + 1) * ROWS),
                            type + " token " + tok + " with rows split 0..3, 3..7");
                }
            }
        }
    }

    @Test
    void matmulRefusesArraysThatAreTooShortOrARowRangeOutsideTheMatrix() {
        int cols = 64;
        try (GgufFile g = writeAndOpen(GgmlType.Q8_0, cols, weights(ROWS, cols, 1))) {
            Matrix m = Matrix.of(g.requireTensor("w"));
            IllegalArgumentException shortX = assertThrows(IllegalArgumentException.class,
                    () -> m.matmul(new float[cols * 2 - 1], 2, new float[2 * ROWS], 0, ROWS));
            assertTrue(shortX.getMessage().contains("x.length"), shortX.getMessage());
            IllegalArgumentException shortOut = assertThrows(IllegalArgumentException.class,
                    () -> m.matmul(new float[cols * 2], 2, new float[2 * ROWS - 1], 0, ROWS));
            assertTrue(shortOut.getMessage().contains("out.length"), shortOut.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> m.matmul(new float[cols], 1, new float[ROWS], 0, ROWS + 1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.dequantizeRow(ROWS, new float[cols], 0));
        }
    }
}
