package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.gguf.ModelFormatException;

/**
 * A weight matrix of {@link #rows()} rows by {@link #cols()} columns, read in place from a GGUF tensor
 * of any supported type. Row {@code r} is the tensor's r-th contiguous row ({@code ne[0]} values),
 * so {@code y = W·x} is {@code y[r] = dot(row r, x)}.
 *
 * <p>All products accumulate in F32. Implementations are thread safe: callers split the row range
 * across threads.
 */
public abstract class Matrix {

    protected final GgufTensor tensor;
    protected final int rows;
    protected final int cols;

    protected Matrix(GgufTensor tensor) {
        this.tensor = tensor;
        long r = tensor.rowCount();
        long c = tensor.rowLength();
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE) {
            throw new ModelFormatException("tensor " + tensor.name() + " is too large for a matrix: " + tensor);
        }
        this.rows = (int) r;
        this.cols = (int) c;
    }

    /** A matrix over the tensor's bytes (no copy). */
    public static Matrix of(GgufTensor tensor) {
        return switch (tensor.type()) {
            case F32 -> new F32Matrix(tensor);
            case F16 -> new F16Matrix(tensor);
            case BF16 -> new Bf16Matrix(tensor);
            case Q8_0 -> new Q8_0Matrix(tensor);
            case Q4_0 -> new Q4_0Matrix(tensor);
            case Q4_K -> new Q4KMatrix(tensor);
            case Q6_K -> new Q6KMatrix(tensor);
            case Q4_1 -> new Q4_1Matrix(tensor);
            case Q5_0 -> new Q5_0Matrix(tensor);
            case Q5_1 -> new Q5_1Matrix(tensor);
            case Q2_K -> new Q2KMatrix(tensor);
            case Q3_K -> new Q3KMatrix(tensor);
            case Q5_K -> new Q5KMatrix(tensor);
            case IQ4_NL -> new IQ4NLMatrix(tensor);
            case IQ4_XS -> new IQ4XSMatrix(tensor);
        };
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public GgmlType type() {
        return tensor.type();
    }

    public GgufTensor tensor() {
        return tensor;
    }

    /**
     * Multiplies {@code tokens} activation rows by this matrix, for output rows
     * {@code [rowStart, rowEnd)}: {@code out[t*rows + r] = dot(row r, x[t*cols .. t*cols+cols))}.
     * Each weight row is read once and used for every token.
     */
    public abstract void matmul(float[] x, int tokens, float[] out, int rowStart, int rowEnd);

    /** Writes row {@code row} as F32 values into {@code out[offset .. offset+cols)}. */
    public abstract void dequantizeRow(int row, float[] out, int offset);

    /**
     * Checks {@link #matmul}'s arguments up front, so that a wrong size fails with a message instead of
     * an index error from deep inside a kernel (or, worse, a silently partial result).
     */
    protected final void checkMatmul(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must be >= 0, is " + tokens);
        }
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("row range [" + rowStart + ", " + rowEnd + ") is outside [0, "
                    + rows + ") of " + tensor);
        }
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException(tokens + " tokens of " + cols + " values need x.length >= "
                    + (long) tokens * cols + ", is " + x.length + " (" + tensor + ")");
        }
        if ((long) tokens * rows > out.length) {
            throw new IllegalArgumentException(tokens + " tokens of " + rows + " outputs need out.length >= "
                    + (long) tokens * rows + ", is " + out.length + " (" + tensor + ")");
        }
    }

    /** Checks a row index for {@link #dequantizeRow}. */
    protected final void checkRow(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " is outside [0, " + rows + ") of " + tensor);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + tensor + "]";
    }
}
