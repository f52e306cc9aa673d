package io.batchllm.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damaged and unusable model files, each made by changing a valid file that {@link GgufWriter} wrote,
 * must be refused with a {@link ModelFormatException} that says what is wrong and where.
 */
class GgufFileBadFilesTest {

    @TempDir
    static Path dir;

    /** A small valid file: two metadata keys, tensors "blk.0.ta" (F32 [32, 2]) and "blk.0.tb" (Q8_0 [32, 1]). */
    private static byte[] valid() throws Exception {
        Path p = dir.resolve("valid.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .putStrings("tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>"))
                .addTensor("blk.0.ta", GgmlType.F32, new long[] {32, 2}, new float[64])
                .addTensor("blk.0.tb", GgmlType.Q8_0, new long[] {32, 1}, new float[32])
                .write(p);
        return Files.readAllBytes(p);
    }

    static Stream<Arguments> damagedFiles() {
        return Stream.of(
                bad("not GGUF", raw -> "PK\u0003\u0004 a zip file".getBytes(StandardCharsets.UTF_8),
                        "not a GGUF file"),
                bad("empty", raw -> new byte[0], "not a GGUF file"),
                bad("unsupported version", raw -> putInt(raw, 4, 4), "GGUF version 4 is not supported"),
                bad("truncated in the header", raw -> Arrays.copyOf(raw, 12), "header", "truncated"),
                bad("truncated in the metadata", raw -> Arrays.copyOf(raw, indexOf(raw, "tokenizer.ggml.tokens") + 30),
                        "metadata 'tokenizer.ggml.tokens'", "truncated"),
                bad("truncated in the tensor infos", raw -> Arrays.copyOf(raw, indexOf(raw, "blk.0.tb") + 10),
                        "tensor 'blk.0.tb'", "truncated"),
                bad("truncated in the tensor data", raw -> Arrays.copyOf(raw, raw.length - 40),
                        "tensor 'blk.0.tb'", "truncated"),
                bad("unsupported tensor type", GgufFileBadFilesTest::withIq2XxsTensor,
                        "tensor 'blk.0.iq2_xxs'", "IQ2_XXS", "cannot read"),
                bad("misaligned data offset", raw -> putLong(raw, offsetFieldOf(raw, "blk.0.tb", 2), 36),
                        "tensor 'blk.0.tb'", "offset 36 is not aligned to 32"),
                bad("duplicate tensor", raw -> rename(raw, "blk.0.tb", "blk.0.ta"),
                        "tensor 'blk.0.ta'", "appears twice"),
                bad("implausible tensor count", raw -> putLong(raw, 8, 1L << 40), "implausible tensor count"),
                bad("implausible metadata count", raw -> putLong(raw, 16, -1L), "implausible metadata count"),
                bad("implausible array length", raw -> putLong(raw, indexOf(raw, "tokenizer.ggml.tokens") + 21 + 4 + 4,
                        1L << 50), "metadata 'tokenizer.ggml.tokens'", "implausible array length"),
                bad("too many dimensions", raw -> putInt(raw, indexOf(raw, "blk.0.ta") + 8, 9),
                        "tensor 'blk.0.ta'", "9 dimensions"),
                bad("unknown metadata value type", raw -> putInt(raw, indexOf(raw, "general.architecture") + 20, 99),
                        "metadata 'general.architecture'", "unknown value type 99"));
    }

    private static Arguments bad(String name, UnaryOperator<byte[]> damage, String... messageParts) {
        return Arguments.of(name, damage, messageParts);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damagedFiles")
    void isRefusedWithAMessageNamingTheProblem(String name, UnaryOperator<byte[]> damage, String[] messageParts)
            throws Exception {
        Path p = dir.resolve(name.replace(' ', '-') + ".gguf");
        Files.write(p, damage.apply(valid()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    /** A file with an IQ2_XXS tensor (type id 16: 256 values in 66 bytes), which BatchLLM has no kernel for. */
    private static byte[] withIq2XxsTensor(byte[] ignored) {
        try {
            Path p = dir.resolve("iq2_xxs-source.gguf");
            new GgufWriter().addRawTensor("blk.0.iq2_xxs", 16, new long[] {256, 1}, new byte[66]).write(p);
            return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The start of a string's bytes in the file (a name or key, which are unique in these files). A
     * metadata entry is: u64 key length, key bytes, u32 value type, value; an array value is u32
     * element type, u64 length, elements.
     */
    private static int indexOf(byte[] raw, String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + needle.length <= raw.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (raw[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("'" + s + "' not in file");
    }

    /** A tensor info is: name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset. */
    private static int offsetFieldOf(byte[] raw, String tensor, int dims) {
        return indexOf(raw, tensor) + tensor.length() + 4 + 8 * dims + 4;
    }

    private static byte[] rename(byte[] raw, String from, String to) {
        byte[] b = to.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, raw, indexOf(raw, from), b.length);
        return raw;
    }

    private static byte[] putInt(byte[] raw, int at, int v) {
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        return raw;
    }

    private static byte[] putLong(byte[] raw, int at, long v) {
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        return raw;
    }
}
