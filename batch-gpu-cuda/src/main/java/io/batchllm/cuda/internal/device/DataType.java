package io.batchllm.cuda.internal.device;

/** Element types of GEMM operands. */
public enum DataType {
    /** bfloat16: the top 16 bits of an IEEE float. */
    BF16(2),
    /** IEEE float. */
    F32(4);

    private final int bytes;

    DataType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
