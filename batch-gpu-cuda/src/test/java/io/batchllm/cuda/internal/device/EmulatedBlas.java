package io.batchllm.cuda.internal.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * cuBLAS's {@code gemmEx} semantics as plain loops, queued on the emulated stream: column-major
 * operands, {@code op()} per transpose flag, fp32 accumulation in k order, C = alpha·op(A)·op(B) +
 * beta·C. Written from the cuBLAS documentation's definition, independently of {@link GemmCall#linear},
 * so that running a {@code linear} call through it checks the call's parameters. Every output element
 * is its own dot product, so a column's values never depend on how many columns (tokens) the call has.
 */
final class EmulatedBlas implements Blas {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final EmulatedGpu.EmulatedStream stream;

    EmulatedBlas(EmulatedGpu.EmulatedStream stream) {
        this.stream = stream;
    }

    @Override
    public void gemm(GemmCall c, long a, long b, long out) {
        stream.submit(() -> run(c, a, b, out));
    }

    private static void run(GemmCall c, long a, long b, long out) {
        MemorySegment as = operand(a, c.lda(), c.transA() ? c.m() : c.k(), c.aType());
        MemorySegment bs = operand(b, c.ldb(), c.transB() ? c.k() : c.n(), c.bType());
        MemorySegment cs = operand(out, c.ldc(), c.n(), c.cType());
        if (c.cType() != DataType.F32) {
            throw new UnsupportedOperationException("the engine's GEMMs write fp32");
        }
        for (int j = 0; j < c.n(); j++) {
            for (int i = 0; i < c.m(); i++) {
                float sum = 0;
                for (int p = 0; p < c.k(); p++) {
                    // op(A)[i][p] and op(B)[p][j], column-major: element (r, col) at col * ld + r
                    long ai = c.transA() ? (long) i * c.lda() + p : (long) p * c.lda() + i;
                    long bi = c.transB() ? (long) p * c.ldb() + j : (long) j * c.ldb() + p;
                    sum += read(as, ai, c.aType()) * read(bs, bi, c.bType());
                }
                long ci = (long) j * c.ldc() + i;
                float prior = c.beta() == 0 ? 0 : c.beta() * cs.getAtIndex(FLOAT, ci);
                cs.setAtIndex(FLOAT, ci, c.alpha() * sum + prior);
            }
        }
    }

    /** The {@code columns} columns of leading dimension {@code ld} at {@code address}. */
    private static MemorySegment operand(long address, int ld, int columns, DataType t) {
        return MemorySegment.ofAddress(address).reinterpret((long) ld * columns * t.bytes());
    }

    private static float read(MemorySegment s, long index, DataType t) {
        return switch (t) {
            case BF16 -> Float.intBitsToFloat((s.getAtIndex(SHORT, index) & 0xFFFF) << 16);
            case F32 -> s.getAtIndex(FLOAT, index);
        };
    }

    @Override
    public void useWorkspace(DeviceBuffer workspace) {
        // the loops need none
    }

    @Override
    public void close() {
    }
}
