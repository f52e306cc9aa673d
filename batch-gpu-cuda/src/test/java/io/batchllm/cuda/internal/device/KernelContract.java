package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.Bf16;
import io.batchllm.cuda.internal.KernelSource;
import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.tensor.Dequantize;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * What the elementwise, norm, embedding and GEMM kernels must compute, checked against plain Java
 * written from the CPU engine's formulas (and batch-core's own dequantizer).
 */
abstract class KernelContract extends GpuTestBase {

    @Test
    void rmsnormMatchesTheCpuFormulaOnTheSelectedRows() {
        int dim = 96;
        float eps = 1e-5f;
        float[] x = randomFloats(4 * dim, 2f);
        float[] w = randomFloats(dim, 1f);
        int[] rows = {3, 1};
        DeviceBuffer out = mem.zeros(2L * dim * 2);
        kernel(KernelSource.NORM, "rmsnorm").launch(LaunchShape.of(rows.length, 32), stream, KernelArgs.of()
                .pointer(out).pointer(mem.floats(x)).pointer(mem.floats(w)).pointer(mem.ints(rows)).i32(dim).f32(eps));
        float[] actual = fromBf16(mem.readShorts(out, 2 * dim));
        float[] expected = new float[2 * dim];
        for (int r = 0; r < rows.length; r++) {
            float ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += x[rows[r] * dim + i] * x[rows[r] * dim + i];
            }
            float scale = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) {
                expected[r * dim + i] = x[rows[r] * dim + i] * scale * w[i];
            }
        }
        assertClose(expected, actual, BF16_RELATIVE, 1e-6f, "rmsnorm");
    }

    @Test
    void siluMulGatesTheUpHalfWithTheGateHalf() {
        int ffn = 40;
        int tokens = 3;
        float[] gateUp = randomFloats(tokens * 2 * ffn, 3f);
        DeviceBuffer out = mem.zeros((long) tokens * ffn * 2);
        kernel(KernelSource.FFN, "silu_mul").launch(LaunchShape.of(2, 32), stream,
                KernelArgs.of().pointer(out).pointer(mem.floats(gateUp)).i32(ffn).i64((long) tokens * ffn));
        float[] expected = new float[tokens * ffn];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < ffn; j++) {
                float g = gateUp[t * 2 * ffn + j];
                expected[t * ffn + j] = g / (1f + (float) Math.exp(-g)) * gateUp[t * 2 * ffn + ffn + j];
            }
        }
        assertClose(expected, fromBf16(mem.readShorts(out, tokens * ffn)), BF16_RELATIVE, 1e-6f, "silu_mul");
    }

    @Test
    void residualAddAndBf16ConversionAreElementwise() {
        float[] x = randomFloats(100, 1f);
        float[] y = randomFloats(100, 1f);
        DeviceBuffer xb = mem.floats(x);
        kernel(KernelSource.FFN, "residual_add").launch(LaunchShape.of(1, 32), stream,
                KernelArgs.of().pointer(xb).pointer(mem.floats(y)).i64(100));
        float[] sum = mem.readFloats(xb, 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(x[i] + y[i], sum[i], "x + y at " + i);
        }
        DeviceBuffer bf = mem.zeros(200);
        kernel(KernelSource.FFN, "f32_to_bf16").launch(LaunchShape.of(3, 16), stream,
                KernelArgs.of().pointer(bf).pointer(xb).i64(100));
        assertArrayEquals(toBf16(sum), mem.readShorts(bf, 100), "the kernel rounds as Bf16.fromFloat does");
    }

    @Test
    void embeddingGathersBf16RowsExactly() {
        int dim = 48;
        float[] table = randomFloats(10 * dim, 1f);
        short[] bf = toBf16(table);
        int[] tokens = {7, 0, 7, 9};
        DeviceBuffer out = mem.zeros((long) tokens.length * dim * 4);
        kernel(KernelSource.EMBEDDING, "embed_bf16").launch(LaunchShape.of(tokens.length, 16), stream,
                KernelArgs.of().pointer(out).pointer(mem.shorts(bf)).pointer(mem.ints(tokens)).i32(dim));
        float[] actual = mem.readFloats(out, tokens.length * dim);
        for (int t = 0; t < tokens.length; t++) {
            for (int i = 0; i < dim; i++) {
                assertEquals(Bf16.toFloat(bf[tokens[t] * dim + i]), actual[t * dim + i]);
            }
        }
    }

    @Test
    void embeddingDequantizesQ8_0RowsAsBatchCoreDoes() {
        int dim = 64;
        int vocab = 5;
        byte[] q8 = new byte[vocab * dim / 32 * 34];
        for (int b = 0; b < vocab * dim / 32; b++) {
            short scale = Float.floatToFloat16((float) (0.01 + random.nextDouble() * 0.1));
            q8[b * 34] = (byte) scale;
            q8[b * 34 + 1] = (byte) (scale >> 8);
            for (int j = 0; j < 32; j++) {
                q8[b * 34 + 2 + j] = (byte) (random.nextInt(255) - 127);
            }
        }
        GgufTensor tensor = new GgufTensor("token_embd.weight", GgmlType.Q8_0, new long[] {dim, vocab},
                MemorySegment.ofArray(q8));
        int[] tokens = {4, 1};
        DeviceBuffer out = mem.zeros((long) tokens.length * dim * 4);
        kernel(KernelSource.EMBEDDING, "embed_q8_0").launch(LaunchShape.of(tokens.length, 32), stream,
                KernelArgs.of().pointer(out).pointer(mem.bytes(q8)).pointer(mem.ints(tokens)).i32(dim));
        float[] actual = mem.readFloats(out, tokens.length * dim);
        float[] expected = new float[tokens.length * dim];
        for (int t = 0; t < tokens.length; t++) {
            Dequantize.dequantizeRow(tensor, tokens[t], expected, t * dim);
        }
        assertArrayEquals(expected, actual);
    }

    @Test
    void theLinearGemmComputesRowMajorActivationsTimesTransposedWeightsPlusTheResidual() {
        int out = 24;
        int in = 40;
        int tokens = 3;
        float[] w = randomFloats(out * in, 0.5f);
        float[] x = randomFloats(tokens * in, 1f);
        float[] residual = randomFloats(tokens * out, 1f);
        short[] wb = toBf16(w);
        short[] xb = toBf16(x);
        DeviceBuffer y = mem.floats(residual);
        try (Blas blas = gpu.blas(stream)) {
            blas.gemm(GemmCall.linear(out, in, tokens, DataType.F32, true), mem.shorts(wb).address(),
                    mem.shorts(xb).address(), y.address());
        }
        float[] expected = new float[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double s = residual[t * out + o];
                for (int i = 0; i < in; i++) {
                    s += (double) Bf16.toFloat(wb[o * in + i]) * Bf16.toFloat(xb[t * in + i]);
                }
                expected[t * out + o] = (float) s;
            }
        }
        assertClose(expected, mem.readFloats(y, tokens * out), 1e-5f, 1e-4f, "Y = X·Wᵀ + Y");
    }
}
