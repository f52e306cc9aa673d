package io.batchllm.cuda.internal.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * cuBLAS's {@code gemmEx} semantics as plain loops: column-major operands, {@code op()} per transpose
 * flag, fp32 accumulation, C = alpha·op(A)·op(B) + beta·C. Written from the cuBLAS documentation's
 * definition, independently of {@link GemmCall#linear}, so that running a {@code linear} call through it
 * checks the call's parameters.
 */
final class EmulatedBlas implements Blas {

    @Override
    public void gemm(GemmCall c, long a, long b, long out) {
        for (int j = 0; j < c.n(); j++) {
            for (int i = 0; i < c.m(); i++) {
                float sum = 0;
                for (int p = 0; p < c.k(); p++) {
                    // op(A)[i][p] and op(B)[p][j], column-major: element (r, col) at col * ld + r
                    long ai = c.transA() ? (long) i * c.lda() + p : (long) p * c.lda() + i;
                    long bi = c.transB() ? (long) p * c.ldb() + j : (long) j * c.ldb() + p;
                    sum += read(a, ai, c.aType()) * read(b, bi, c.bType());
                }
                long ci = (long) j * c.ldc() + i;
                float prior = c.beta() == 0 ? 0 : c.beta() * read(out, ci, c.cType());
                write(out, ci, c.cType(), c.alpha() * sum + prior);
            }
        }
    }

    private static float read(long base, long index, DataType t) {
        MemorySegment s = MemorySegment.ofAddress(base + index * t.bytes()).reinterpret(t.bytes());
        return switch (t) {
            case BF16 -> Float.intBitsToFloat((s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0) & 0xFFFF) << 16);
            case F32 -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
        };
    }

    private static void write(long base, long index, DataType t, float v) {
        MemorySegment s = MemorySegment.ofAddress(base + index * t.bytes()).reinterpret(t.bytes());
        switch (t) {
            case BF16 -> throw new UnsupportedOperationException("the engine's GEMMs write fp32");
            case F32 -> s.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v);
        }
    }

    @Override
    public void close() {
    }
}
