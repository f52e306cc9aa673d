package io.batchllm.cuda.internal.device;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * {@link Blas} over cuBLAS: {@code cublasGemmEx} with fp32 compute ({@code CUBLAS_COMPUTE_32F}), so
 * bf16 operands run on tensor cores and accumulate in fp32. One handle per stream.
 */
final class CublasBlas implements Blas {
    private final cublasContext handle = new cublasContext();
    private final FloatPointer alpha = new FloatPointer(1);
    private final FloatPointer beta = new FloatPointer(1);

    CublasBlas(CUstream_st stream) {
        Native.blas(cublas.cublasCreate_v2(handle), "cublasCreate");
        Native.blas(cublas.cublasSetStream_v2(handle, stream), "cublasSetStream");
    }

    @Override
    public void gemm(GemmCall c, long a, long b, long out) {
        alpha.put(0, c.alpha());
        beta.put(0, c.beta());
        Native.blas(cublas.cublasGemmEx(handle, op(c.transA()), op(c.transB()), c.m(), c.n(), c.k(), alpha,
                Native.at(a), type(c.aType()), c.lda(), Native.at(b), type(c.bType()), c.ldb(), beta, Native.at(out),
                type(c.cType()), c.ldc(), cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx " + c);
    }

    @Override
    public void useWorkspace(DeviceBuffer workspace) {
        Native.blas(cublas.cublasSetWorkspace_v2(handle, Native.at(workspace.address()), workspace.bytes()),
                "cublasSetWorkspace");
    }

    private static int op(boolean transpose) {
        return transpose ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    }

    private static int type(DataType t) {
        return switch (t) {
            case BF16 -> cudart.CUDA_R_16BF;
            case F32 -> cudart.CUDA_R_32F;
        };
    }

    @Override
    public void close() {
        Native.blas(cublas.cublasDestroy_v2(handle), "cublasDestroy");
        alpha.close();
        beta.close();
    }
}
