package io.batchllm.engine.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF model file (versions 2 and 3), memory-mapped with the FFM API so that multi-GB models open
 * instantly and tensors are never copied onto the heap.
 *
 * <p>Opening checks the whole container: magic, version, every metadata value, every tensor's type,
 * shape and byte range against the file size. A file that fails any check is refused with a
 * {@link ModelFormatException} naming the file and the problem; a file that opens can be read
 * without further bounds surprises.
 *
 * <p>Metadata values are exposed as Java values: {@code String}, {@code Boolean}, {@code Integer} (for
 * 8/16-bit and i32), {@code Long} (u32, u64, i64; u32 so that {@code 0xFFFFFFFF} "none" ids stay
 * positive), {@code Float}, {@code Double}; arrays as {@code int[]} (up to 32-bit integers, u32 as its
 * bit pattern), {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]},
 * {@code List<String>}, or {@code List<Object>} for nested arrays.
 *
 * <p>Thread safe once open. {@link #close()} unmaps the file: tensors must not be used afterwards.
 */
public final class GgufFile implements AutoCloseable {

    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    /** ggml's default when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensor> tensors;

    private GgufFile(Path path, Arena arena, int version, Map<String, Object> metadata,
                     Map<String, GgufTensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Maps and checks a GGUF file.
     *
     * @throws ModelFormatException if the file is missing, unreadable, or not a GGUF file we can use
     */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL.reinterpret(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Parser p = new Parser(path, file);
            GgufFile g = p.parse(arena);
            return g;
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ModelFormatException("model file not found: " + path);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException("cannot read model file " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The file this was read from. */
    public Path path() {
        return path;
    }

    /** The GGUF version: 2 or 3. */
    public int version() {
        return version;
    }

    /** All metadata, in file order. Unmodifiable. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** All tensors by name, in file order. Unmodifiable. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** The tensor with this name, if present. */
    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor with this name, or a {@link ModelFormatException} naming it. */
    public GgufTensor requireTensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path + ": tensor '" + name + "' is missing");
        }
        return t;
    }

    /** A metadata value, if present. */
    public Optional<Object> get(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** A string value, if present; a value of another type is an error naming the key. */
    public Optional<String> getString(String key) {
        return typed(key, String.class);
    }

    /** An integer value of any width, if present. */
    public Optional<Long> getLong(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Integer i) {
            return Optional.of(i.longValue());
        }
        if (v instanceof Long l) {
            return Optional.of(l);
        }
        throw wrongType(key, "an integer", v);
    }

    /** A floating-point (or integer) value, if present. */
    public Optional<Double> getDouble(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Number n) {
            return Optional.of(n.doubleValue());
        }
        throw wrongType(key, "a number", v);
    }

    /** A boolean value, if present. */
    public Optional<Boolean> getBoolean(String key) {
        return typed(key, Boolean.class);
    }

    /** A required string value. */
    public String requireString(String key) {
        return getString(key).orElseThrow(() -> missing(key));
    }

    /** A required integer value that fits an int. */
    public int requireInt(String key) {
        long v = getLong(key).orElseThrow(() -> missing(key));
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(path + ": metadata '" + key + "' = " + v + " is out of range");
        }
        return (int) v;
    }

    /** A required number. */
    public double requireDouble(String key) {
        return getDouble(key).orElseThrow(() -> missing(key));
    }

    private <T> Optional<T> typed(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!type.isInstance(v)) {
            throw wrongType(key, "a " + type.getSimpleName().toLowerCase(), v);
        }
        return Optional.of(type.cast(v));
    }

    private ModelFormatException missing(String key) {
        return new ModelFormatException(path + ": required metadata key '" + key + "' is missing");
    }

    private ModelFormatException wrongType(String key, String expected, Object v) {
        return new ModelFormatException(path + ": metadata '" + key + "' should be " + expected + " but is "
                + v.getClass().getSimpleName());
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }

    /** Reads the container; every read is bounds-checked against the mapped size. */
    private static final class Parser {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** Guards against garbage counts that would make us allocate gigabytes before failing. */
        private static final long MAX_COUNT = 100_000_000L;

        private final Path path;
        private final MemorySegment file;
        private final long size;
        private long pos;
        private String context = "header";

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
            this.size = file.byteSize();
        }

        GgufFile parse(Arena arena) {
            if (size < 4 || file.get(I32, 0) != MAGIC) {
                throw error("not a GGUF file (it does not start with the bytes 'GGUF')");
            }
            pos = 4;
            int version = u32AsInt();
            if (version != 2 && version != 3) {
                throw error("GGUF version " + version + " is not supported (versions 2 and 3 are)");
            }
            long tensorCount = count(u64(), "tensor count");
            long kvCount = count(u64(), "metadata count");

            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                context = "metadata entry " + i;
                String key = string();
                context = "metadata '" + key + "'";
                int type = u32AsInt();
                metadata.put(key, value(type, 0));
            }

            long alignment = DEFAULT_ALIGNMENT;
            Object a = metadata.get("general.alignment");
            if (a != null) {
                if (!(a instanceof Number n) || n.longValue() <= 0 || n.longValue() % 8 != 0) {
                    throw error("general.alignment must be a positive multiple of 8, is " + a);
                }
                alignment = n.longValue();
            }

            record Info(String name, int typeId, long[] dims, long offset) {
            }
            List<Info> infos = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                context = "tensor info " + i;
                String name = string();
                context = "tensor '" + name + "'";
                int nDims = u32AsInt();
                if (nDims < 1 || nDims > 4) {
                    throw error("has " + nDims + " dimensions (1 to 4 allowed)");
                }
                long[] dims = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    dims[d] = u64();
                    if (dims[d] <= 0) {
                        throw error("has a non-positive dimension " + dims[d]);
                    }
                }
                int typeId = u32AsInt();
                long offset = u64();
                infos.add(new Info(name, typeId, dims, offset));
            }

            long dataStart = (pos + alignment - 1) / alignment * alignment;
            Map<String, GgufTensor> tensors = new LinkedHashMap<>();
            for (Info info : infos) {
                context = "tensor '" + info.name + "'";
                GgmlType type = GgmlType.byId(info.typeId);
                if (type == null) {
                    throw error("has type " + GgmlType.nameOf(info.typeId) + ", which BatchLLM cannot read (supported: "
                            + GgmlType.supportedNames() + "); re-quantize the model to one of those, e.g. with "
                            + "llama-quantize ... Q4_K_M or Q8_0");
                }
                long elements = 1;
                for (long d : info.dims) {
                    elements = Math.multiplyExact(elements, d);
                }
                if (info.dims[0] % type.blockSize() != 0) {
                    throw error("row length " + info.dims[0] + " is not a multiple of the " + type + " block size "
                            + type.blockSize());
                }
                long bytes = type.bytesFor(elements);
                if (info.offset % alignment != 0) {
                    throw error("data offset " + info.offset + " is not aligned to " + alignment);
                }
                long start = dataStart + info.offset;
                if (start < dataStart || start + bytes > size) {
                    throw error("needs bytes " + start + ".." + (start + bytes) + " but the file has only " + size
                            + " bytes: the file is truncated (download it again)");
                }
                if (tensors.containsKey(info.name)) {
                    throw error("appears twice");
                }
                tensors.put(info.name, new GgufTensor(info.name, type, info.dims, file.asSlice(start, bytes)));
            }
            return new GgufFile(path, arena, version, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors));
        }

        private Object value(int type, int depth) {
            return switch (type) {
                case 0 -> Byte.toUnsignedInt(u8());
                case 1 -> (int) u8();
                case 2 -> Short.toUnsignedInt(i16());
                case 3 -> (int) i16();
                case 4 -> Integer.toUnsignedLong(i32());
                case 5 -> i32();
                case 6 -> f32();
                case 7 -> bool();
                case 8 -> string();
                case 9 -> array(depth);
                case 10, 11 -> u64();
                case 12 -> f64();
                default -> throw error("has unknown value type " + type);
            };
        }

        private Object array(int depth) {
            if (depth > 4) {
                throw error("nests arrays too deeply");
            }
            int elemType = u32AsInt();
            long n = count(u64(), "array length");
            int width = switch (elemType) {
                case 0, 1, 7 -> 1;
                case 2, 3 -> 2;
                case 4, 5, 6 -> 4;
                case 10, 11, 12 -> 8;
                default -> 0;
            };
            if (width > 0) {
                need((long) width * n);
            }
            int len = (int) n;
            switch (elemType) {
                case 0, 1, 2, 3, 4, 5 -> {
                    int[] out = new int[len];
                    for (int i = 0; i < len; i++) {
                        out[i] = switch (elemType) {
                            case 0 -> Byte.toUnsignedInt(u8());
                            case 1 -> u8();
                            case 2 -> Short.toUnsignedInt(i16());
                            case 3 -> i16();
                            default -> i32();
                        };
                    }
                    return out;
                }
                case 6 -> {
                    float[] out = new float[len];
                    for (int i = 0; i < len; i++) {
                        out[i] = f32();
                    }
                    return out;
                }
                case 7 -> {
                    boolean[] out = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        out[i] = bool();
                    }
                    return out;
                }
                case 10, 11 -> {
                    long[] out = new long[len];
                    for (int i = 0; i < len; i++) {
                        out[i] = u64();
                    }
                    return out;
                }
                case 12 -> {
                    double[] out = new double[len];
                    for (int i = 0; i < len; i++) {
                        out[i] = f64();
                    }
                    return out;
                }
                case 8 -> {
                    List<String> out = new ArrayList<>(len);
                    for (int i = 0; i < len; i++) {
                        out.add(string());
                    }
                    return Collections.unmodifiableList(out);
                }
                case 9 -> {
                    List<Object> out = new ArrayList<>(len);
                    for (int i = 0; i < len; i++) {
                        out.add(array(depth + 1));
                    }
                    return Collections.unmodifiableList(out);
                }
                default -> throw error("has an array of unknown value type " + elemType);
            }
        }

        private long count(long n, String what) {
            if (n < 0 || n > MAX_COUNT) {
                throw error("has an implausible " + what + " " + Long.toUnsignedString(n) + " (the file is corrupt)");
            }
            return n;
        }

        private void need(long bytes) {
            if (bytes < 0 || pos + bytes > size) {
                throw error("runs past the end of the file at byte " + pos + " (file size " + size
                        + "): the file is truncated (download it again)");
            }
        }

        private String string() {
            long n = u64();
            if (n < 0 || n > size) {
                throw error("has a string of implausible length " + Long.toUnsignedString(n) + " (the file is corrupt)");
            }
            need(n);
            byte[] b = file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
            pos += n;
            return new String(b, StandardCharsets.UTF_8);
        }

        private byte u8() {
            need(1);
            return file.get(ValueLayout.JAVA_BYTE, pos++);
        }

        private boolean bool() {
            return u8() != 0;
        }

        private short i16() {
            need(2);
            short v = file.get(I16, pos);
            pos += 2;
            return v;
        }

        private int i32() {
            need(4);
            int v = file.get(I32, pos);
            pos += 4;
            return v;
        }

        private int u32AsInt() {
            int v = i32();
            if (v < 0) {
                throw error("has an implausible value " + Integer.toUnsignedString(v) + " (the file is corrupt)");
            }
            return v;
        }

        private long u64() {
            need(8);
            long v = file.get(I64, pos);
            pos += 8;
            return v;
        }

        private float f32() {
            need(4);
            float v = file.get(F32, pos);
            pos += 4;
            return v;
        }

        private double f64() {
            need(8);
            double v = file.get(F64, pos);
            pos += 8;
            return v;
        }

        private ModelFormatException error(String what) {
            return new ModelFormatException(path + ": " + context + " " + what);
        }
    }
}
