package io.batchllm.engine.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file: metadata of every GGUF value type and tensors given as F32 values
 * that are encoded to a target {@link GgmlType} on the way out, with the quantizers llama.cpp's
 * {@code llama-quantize} uses without an importance matrix ({@code quantize_row_*_ref}, and
 * {@code quantize_iq4_nl}/{@code _iq4_xs} for the IQ4 types; F16 and BF16 round to nearest even), so
 * that every supported type comes out byte for byte as {@code llama-quantize --pure} writes it from
 * the same F32 values.
 *
 * <p>Tensors are streamed: a tensor's values come from a {@link RowSource} that is asked for one row
 * at a time while the file is written, so a model of any size is written with one row of F32 in
 * memory. Data is aligned to {@link #ALIGNMENT} bytes ({@code general.alignment} is not written, as
 * 32 is the default every reader assumes).
 *
 * <p>Integer metadata: {@link #put(String, Object)} stores a non-negative {@code Integer}, and a
 * {@code Long} up to 0xFFFFFFFF, as u32 (what llama.cpp uses for hyperparameters and token ids),
 * other integers as i32, u64 or i64; the typed {@code putUInt8 .. putInt64} methods choose exactly.
 *
 * <p>Usage: add metadata and tensors, then {@link #write(Path)}. Not thread safe; {@code write} may be
 * called more than once (the row sources are asked again).
 */
public final class GgufWriter {
    /** The data alignment written (ggml's default). */
    public static final int ALIGNMENT = GgufFile.DEFAULT_ALIGNMENT;
    /** ggml's {@code GGML_MAX_NAME} is 64 bytes including the terminating NUL. */
    static final int MAX_TENSOR_NAME_BYTES = 63;

    /** GGUF metadata value type ids. */
    private static final int UINT8 = 0;
    private static final int INT8 = 1;
    private static final int UINT16 = 2;
    private static final int INT16 = 3;
    private static final int UINT32 = 4;
    private static final int INT32 = 5;
    private static final int FLOAT32 = 6;
    private static final int BOOL = 7;
    private static final int STRING = 8;
    private static final int ARRAY = 9;
    private static final int UINT64 = 10;
    private static final int INT64 = 11;
    private static final int FLOAT64 = 12;

    /** Supplies a tensor's values one row ({@code dims[0]} values) at a time, in row order. */
    @FunctionalInterface
    public interface RowSource {
        /** Fills {@code out} (length {@code dims[0]}) with row {@code row}. */
        void fill(long row, float[] out);
    }

    private record Entry(int type, Object value) {
    }

    private record PendingTensor(String name, int typeId, GgmlType type, long[] dims, long bytes,
                                 RowSource rows, byte[] raw) {
    }

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final Map<String, PendingTensor> tensors = new LinkedHashMap<>();

    /** An empty writer. */
    public GgufWriter() {
    }

    // ---- metadata -------------------------------------------------------------------------------

    /**
     * Adds a metadata value, choosing the GGUF type from the Java type: {@code String}; {@code Boolean};
     * {@code Integer}/{@code Long} (u32 when in 0..0xFFFFFFFF, else i32 / u64 / i64); {@code Float} (f32);
     * {@code Double} (f64); {@code List<String>} (string array); {@code int[]} (i32 array);
     * {@code long[]} (u64 array, i64 if any is negative); {@code float[]}; {@code double[]};
     * {@code boolean[]}. These are the types {@link GgufFile} returns, so metadata can be copied from a
     * file.
     *
     * @throws IllegalArgumentException for another type, a null, or a key already added
     */
    public GgufWriter put(String key, Object value) {
        return switch (value) {
            case String s -> putString(key, s);
            case Boolean b -> putBool(key, b);
            case Integer i -> i >= 0 ? putUInt32(key, i) : putInt32(key, i);
            case Long l -> l >= 0 && l <= 0xFFFFFFFFL ? putUInt32(key, l)
                    : l >= 0 ? putUInt64(key, l) : putInt64(key, l);
            case Float f -> putFloat32(key, f);
            case Double d -> putFloat64(key, d);
            case int[] a -> putInt32Array(key, a);
            case float[] a -> putFloat32Array(key, a);
            case long[] a -> add(key, ARRAY, new TypedArray(Arrays.stream(a).anyMatch(v -> v < 0) ? INT64 : UINT64,
                    a.clone()));
            case double[] a -> add(key, ARRAY, new TypedArray(FLOAT64, a.clone()));
            case boolean[] a -> add(key, ARRAY, new TypedArray(BOOL, a.clone()));
            case List<?> list -> putStrings(key, strings(key, list));
            case null -> throw new IllegalArgumentException("metadata '" + key + "' is null");
            default -> throw new IllegalArgumentException("metadata '" + key + "' has type "
                    + value.getClass().getName() + ", which has no GGUF equivalent; use a typed put method");
        };
    }

    public GgufWriter putString(String key, String value) {
        return add(key, STRING, requireNonNull(key, value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return add(key, BOOL, value);
    }

    public GgufWriter putUInt8(String key, int value) {
        return add(key, UINT8, (long) checkRange(key, value, 0, 0xFF));
    }

    public GgufWriter putInt8(String key, int value) {
        return add(key, INT8, (long) checkRange(key, value, Byte.MIN_VALUE, Byte.MAX_VALUE));
    }

    public GgufWriter putUInt16(String key, int value) {
        return add(key, UINT16, (long) checkRange(key, value, 0, 0xFFFF));
    }

    public GgufWriter putInt16(String key, int value) {
        return add(key, INT16, (long) checkRange(key, value, Short.MIN_VALUE, Short.MAX_VALUE));
    }

    public GgufWriter putUInt32(String key, long value) {
        return add(key, UINT32, checkRange(key, value, 0, 0xFFFFFFFFL));
    }

    public GgufWriter putInt32(String key, int value) {
        return add(key, INT32, (long) value);
    }

    /** A u64; values above {@code Long.MAX_VALUE} are given as their (negative) bit pattern. */
    public GgufWriter putUInt64(String key, long value) {
        return add(key, UINT64, value);
    }

    public GgufWriter putInt64(String key, long value) {
        return add(key, INT64, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return add(key, FLOAT32, value);
    }

    public GgufWriter putFloat64(String key, double value) {
        return add(key, FLOAT64, value);
    }

    public GgufWriter putStrings(String key, List<String> values) {
        return add(key, ARRAY, new TypedArray(STRING, List.copyOf(values)));
    }

    public GgufWriter putInt32Array(String key, int[] values) {
        return add(key, ARRAY, new TypedArray(INT32, values.clone()));
    }

    /** A u32 array; each int is the value's bit pattern (as {@link GgufFile} returns u32 arrays). */
    public GgufWriter putUInt32Array(String key, int[] values) {
        return add(key, ARRAY, new TypedArray(UINT32, values.clone()));
    }

    public GgufWriter putFloat32Array(String key, float[] values) {
        return add(key, ARRAY, new TypedArray(FLOAT32, values.clone()));
    }

    /** The metadata keys added so far, in order. */
    public List<String> keys() {
        return List.copyOf(metadata.keySet());
    }

    private record TypedArray(int elemType, Object values) {
        int length() {
            return switch (values) {
                case List<?> l -> l.size();
                case int[] a -> a.length;
                case long[] a -> a.length;
                case float[] a -> a.length;
                case double[] a -> a.length;
                case boolean[] a -> a.length;
                default -> throw new IllegalStateException(values.getClass().getName());
            };
        }
    }

    private GgufWriter add(String key, int type, Object value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key must not be empty");
        }
        if (metadata.containsKey(key)) {
            throw new IllegalArgumentException("metadata '" + key + "' was already added");
        }
        metadata.put(key, new Entry(type, value));
        return this;
    }

    private static <T> T requireNonNull(String key, T value) {
        if (value == null) {
            throw new IllegalArgumentException("metadata '" + key + "' is null");
        }
        return value;
    }

    private static long checkRange(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException("metadata '" + key + "' = " + value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static List<String> strings(String key, List<?> list) {
        List<String> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw new IllegalArgumentException("metadata '" + key + "' is a list with a "
                        + (o == null ? "null" : o.getClass().getSimpleName())
                        + " element; only lists of strings are supported");
            }
            out.add(s);
        }
        return out;
    }

    // ---- tensors --------------------------------------------------------------------------------

    /**
     * Adds a tensor whose values are generated row by row while writing.
     *
     * @param dims {@code ne[0]} first; {@code dims[0]} must be a multiple of the type's block size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, RowSource rows) {
        long[] d = checkDims(name, dims);
        if (d[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + d[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize()
                    + "; choose another type for it");
        }
        if (d[0] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + d[0] + " is too long");
        }
        return addPending(new PendingTensor(name, type.id(), type, d, type.bytesFor(count(d)), rows, null));
    }

    /** Adds a tensor from all its values ({@code ne[0]} fastest), which the writer keeps until written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, float[] values) {
        long[] d = checkDims(name, dims);
        if (count(d) != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' has dims " + Arrays.toString(d) + " ("
                    + count(d) + " values) but " + values.length + " values were given");
        }
        int cols = (int) Math.min(d[0], Integer.MAX_VALUE);
        return addTensor(name, type, d, (row, out) -> System.arraycopy(values, (int) (row * cols), out, 0, cols));
    }

    /**
     * Adds a tensor as raw bytes with any type id, including ones BatchLLM cannot read: for tests and
     * tools that need exact control over a file. Nothing about the bytes is checked.
     */
    public GgufWriter addRawTensor(String name, int typeId, long[] dims, byte[] bytes) {
        long[] d = checkDims(name, dims);
        return addPending(new PendingTensor(name, typeId, GgmlType.byId(typeId), d, bytes.length, null,
                bytes.clone()));
    }

    private GgufWriter addPending(PendingTensor t) {
        if (tensors.containsKey(t.name)) {
            throw new IllegalArgumentException("tensor '" + t.name + "' was already added");
        }
        tensors.put(t.name, t);
        return this;
    }

    private static long[] checkDims(String name, long[] dims) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name must not be empty");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' is longer than "
                    + MAX_TENSOR_NAME_BYTES + " bytes (ggml's limit)");
        }
        if (dims.length < 1 || dims.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + dims.length + " dimensions (1 to 4 allowed)");
        }
        for (long v : dims) {
            if (v <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a non-positive dimension in "
                        + Arrays.toString(dims));
            }
        }
        return dims.clone();
    }

    private static long count(long[] dims) {
        long n = 1;
        for (long v : dims) {
            n = Math.multiplyExact(n, v);
        }
        return n;
    }

    // ---- output ---------------------------------------------------------------------------------

    /**
     * Writes the file, replacing any existing one. On failure the partial file is deleted.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public void write(Path path) {
        try (LittleEndianOut out = new LittleEndianOut(new BufferedOutputStream(Files.newOutputStream(path), 1 << 16))) {
            writeTo(out);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot write GGUF file " + path + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    private void writeTo(LittleEndianOut out) throws IOException {
        out.u32(GgufFile.MAGIC);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, Entry> e : metadata.entrySet()) {
            out.string(e.getKey());
            out.u32(e.getValue().type);
            writeValue(out, e.getValue().type, e.getValue().value);
        }
        long offset = 0;
        for (PendingTensor t : tensors.values()) {
            out.string(t.name);
            out.u32(t.dims.length);
            for (long d : t.dims) {
                out.u64(d);
            }
            out.u32(t.typeId);
            out.u64(offset);
            offset = align(offset + t.bytes);
        }
        out.padTo(ALIGNMENT);
        for (PendingTensor t : tensors.values()) {
            if (t.raw != null) {
                out.bytes(t.raw, t.raw.length);
            } else {
                writeRows(out, t);
            }
            out.padTo(ALIGNMENT);
        }
    }

    private static void writeRows(LittleEndianOut out, PendingTensor t) throws IOException {
        int cols = (int) t.dims[0];
        long rows = count(t.dims) / cols;
        float[] row = new float[cols];
        byte[] encoded = new byte[(int) t.type.bytesFor(cols)];
        for (long r = 0; r < rows; r++) {
            t.rows.fill(r, row);
            Quantizer.quantize(t.type, row, 0, cols, encoded, 0);
            out.bytes(encoded, encoded.length);
        }
    }

    private static long align(long v) {
        return (v + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeValue(LittleEndianOut out, int type, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8, BOOL -> out.u8(v instanceof Boolean b ? (b ? 1 : 0) : ((Long) v).intValue());
            case UINT16, INT16 -> out.u16(((Long) v).intValue());
            case UINT32, INT32 -> out.u32(((Long) v).intValue());
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case STRING -> out.string((String) v);
            case ARRAY -> writeArray(out, (TypedArray) v);
            default -> throw new IllegalStateException("value type " + type);
        }
    }

    private static void writeArray(LittleEndianOut out, TypedArray a) throws IOException {
        out.u32(a.elemType);
        out.u64(a.length());
        switch (a.values) {
            case List<?> l -> {
                for (Object s : l) {
                    out.string((String) s);
                }
            }
            case int[] ints -> {
                for (int i : ints) {
                    out.u32(i);
                }
            }
            case long[] longs -> {
                for (long l : longs) {
                    out.u64(l);
                }
            }
            case float[] floats -> {
                for (float f : floats) {
                    out.u32(Float.floatToRawIntBits(f));
                }
            }
            case double[] doubles -> {
                for (double d : doubles) {
                    out.u64(Double.doubleToRawLongBits(d));
                }
            }
            case boolean[] bools -> {
                for (boolean b : bools) {
                    out.u8(b ? 1 : 0);
                }
            }
            default -> throw new IllegalStateException(a.values.getClass().getName());
        }
    }

    /** Little-endian primitives over a stream, counting bytes so that padding can be computed. */
    private static final class LittleEndianOut implements AutoCloseable {
        private final OutputStream out;
        private final byte[] buf = new byte[8];
        private long position;

        LittleEndianOut(OutputStream out) {
            this.out = out;
        }

        void u8(int v) throws IOException {
            out.write(v);
            position++;
        }

        void u16(int v) throws IOException {
            buf[0] = (byte) v;
            buf[1] = (byte) (v >> 8);
            bytes(buf, 2);
        }

        void u32(int v) throws IOException {
            Quantizer.putInt(buf, 0, v);
            bytes(buf, 4);
        }

        void u64(long v) throws IOException {
            Quantizer.putInt(buf, 0, (int) v);
            Quantizer.putInt(buf, 4, (int) (v >>> 32));
            bytes(buf, 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b, b.length);
        }

        void bytes(byte[] b, int n) throws IOException {
            out.write(b, 0, n);
            position += n;
        }

        void padTo(int alignment) throws IOException {
            while (position % alignment != 0) {
                u8(0);
            }
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
