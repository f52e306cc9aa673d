package io.batchllm.engine.gguf;

/**
 * The ggml tensor types BatchLLM can read. Quantized types store values in blocks along a row
 * ({@code ne[0]}); {@link #blockSize()} values take {@link #blockBytes()} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    IQ4_NL(20, 32, 18),
    IQ4_XS(23, 256, 136),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type's id in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** Values per block (1 for plain float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes taken by {@code count} values, which must be a whole number of blocks. */
    public long bytesFor(long count) {
        if (count % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores values in blocks of " + blockSize
                    + "; " + count + " values is not a whole number of blocks");
        }
        return count / blockSize * blockBytes;
    }

    /** The supported type with this id, or null if the id is unknown or not supported. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** A readable name for any ggml type id, supported or not, for error messages. */
    public static String nameOf(int id) {
        GgmlType t = byId(id);
        if (t != null) {
            return t.name();
        }
        return switch (id) {
            case 9 -> "Q8_1";
            case 15 -> "Q8_K";
            case 16 -> "IQ2_XXS";
            case 17 -> "IQ2_XS";
            case 18 -> "IQ3_XXS";
            case 19 -> "IQ1_S";
            case 21 -> "IQ3_S";
            case 22 -> "IQ2_S";
            case 24 -> "I8";
            case 25 -> "I16";
            case 26 -> "I32";
            case 27 -> "I64";
            case 28 -> "F64";
            case 29 -> "IQ1_M";
            default -> "unknown type " + id;
        };
    }

    /** The supported types, for error messages. */
    public static String supportedNames() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : values()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(t.name());
        }
        return sb.toString();
    }
}
