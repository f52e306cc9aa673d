package io.batchllm.cuda.internal.device;

/**
 * The parameters of one {@code cublasGemmEx} call, in cuBLAS's column-major terms:
 * {@code C = alpha · op(A) · op(B) + beta · C}, {@code op(A)} m×k, {@code op(B)} k×n, C m×n, computed
 * in fp32 (tensor cores for bf16 operands).
 *
 * <p>Every weight and activation here is row-major, and {@link #linear} maps the engine's one GEMM
 * shape onto that: {@code Y[T][out] = X[T][in] · W[out][in]ᵀ (+ Y)}. A row-major matrix read
 * column-major is its transpose, so the call computes {@code Yᵀ = W · Xᵀ}: A = W with
 * {@code transa = T} (stored in×out column-major, lda = in), B = X with {@code transb = N}
 * (in×T column-major, ldb = in), m = out, n = T, k = in, ldc = out: cuBLAS's "TN" case, the fast one.
 * With {@code beta = 1} and C = the fp32 residual stream, the residual add comes free with the output
 * and down projections.
 *
 * @param transA whether op(A) = Aᵀ
 * @param transB whether op(B) = Bᵀ
 * @param m rows of op(A) and C
 * @param n columns of op(B) and C
 * @param k columns of op(A), rows of op(B)
 * @param aType A's element type
 * @param lda A's leading dimension (elements between columns, column-major)
 * @param bType B's element type
 * @param ldb B's leading dimension
 * @param cType C's element type
 * @param ldc C's leading dimension
 * @param alpha the product's scale
 * @param beta C's scale before the product is added (0 overwrites C, 1 accumulates)
 */
public record GemmCall(boolean transA, boolean transB, int m, int n, int k, DataType aType, int lda,
                       DataType bType, int ldb, DataType cType, int ldc, float alpha, float beta) {

    public GemmCall {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("m, n and k must be >= 1, got " + m + ", " + n + ", " + k);
        }
        if (lda < (transA ? k : m) || ldb < (transB ? n : k) || ldc < m) {
            throw new IllegalArgumentException("leading dimensions too small for " + this);
        }
    }

    /**
     * {@code Y[tokens][out] = X[tokens][in] · W[out][in]ᵀ}, plus Y's previous values when
     * {@code accumulate} (beta = 1). W and X are bf16; Y is {@code outType}.
     */
    public static GemmCall linear(int outFeatures, int inFeatures, int tokens, DataType outType, boolean accumulate) {
        return new GemmCall(true, false, outFeatures, tokens, inFeatures, DataType.BF16, inFeatures, DataType.BF16,
                inFeatures, outType, outFeatures, 1f, accumulate ? 1f : 0f);
    }

    /** Bytes of A this call reads: its weights, for a {@link #linear} call. */
    public long aBytes() {
        return (long) lda * (transA ? m : k) * aType.bytes();
    }

    /** Whether cuBLAS can use tensor cores at full speed: bf16 operands with m, n, k multiples of 8 (cuBLAS guide, "Tensor Core Usage"). */
    public boolean tensorCoreAligned() {
        return aType == DataType.BF16 && bType == DataType.BF16 && m % 8 == 0 && k % 8 == 0 && lda % 8 == 0
                && ldb % 8 == 0;
    }
}
