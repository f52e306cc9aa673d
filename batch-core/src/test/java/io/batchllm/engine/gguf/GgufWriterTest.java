package io.batchllm.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {

    @TempDir
    Path dir;

    @Test
    void metadataOfEveryValueTypeReadsBackWithItsType() {
        Path p = dir.resolve("meta.gguf");
        new GgufWriter()
                .putUInt8("u8", 200).putInt8("i8", -100).putUInt16("u16", 60000).putInt16("i16", -30000)
                .putUInt32("u32", 0xFFFFFFFFL).putInt32("i32", -5)
                .putUInt64("u64", 1L << 40).putInt64("i64", -7)
                .putFloat32("f32", 1e-5f).putFloat64("f64", Math.PI).putBool("bool", true)
                .putString("str", "▁héllo")
                .putStrings("strs", List.of("<s>", "", "▁the"))
                .putInt32Array("ints", new int[] {-1, 2, 3})
                .putUInt32Array("uints", new int[] {-1})
                .putFloat32Array("floats", new float[] {0.5f, -1f})
                .put("auto.int", 7).put("auto.negative", -3).put("auto.long", 1L << 33)
                .put("auto.longs", new long[] {1, 2}).put("auto.doubles", new double[] {2.5})
                .put("auto.bools", new boolean[] {true, false}).put("auto.float", 2.5f)
                .write(p);
        try (GgufFile g = GgufFile.open(p)) {
            Map<String, Object> m = g.metadata();
            assertEquals(3, g.version());
            assertEquals(200, m.get("u8"));
            assertEquals(-100, m.get("i8"));
            assertEquals(60000, m.get("u16"));
            assertEquals(-30000, m.get("i16"));
            assertEquals(0xFFFFFFFFL, m.get("u32"));
            assertEquals(-5, m.get("i32"));
            assertEquals(1L << 40, m.get("u64"));
            assertEquals(-7L, m.get("i64"));
            assertEquals(1e-5f, m.get("f32"));
            assertEquals(Math.PI, m.get("f64"));
            assertEquals(true, m.get("bool"));
            assertEquals("▁héllo", m.get("str"));
            assertEquals(List.of("<s>", "", "▁the"), m.get("strs"));
            assertArrayEquals(new int[] {-1, 2, 3}, (int[]) m.get("ints"));
            assertArrayEquals(new int[] {-1}, (int[]) m.get("uints"));
            assertArrayEquals(new float[] {0.5f, -1f}, (float[]) m.get("floats"));
            // put(Object): non-negative ints become u32 (read back as Long), negative ones i32.
            assertEquals(7L, m.get("auto.int"));
            assertEquals(-3, m.get("auto.negative"));
            assertEquals(1L << 33, m.get("auto.long"));
            assertArrayEquals(new long[] {1, 2}, (long[]) m.get("auto.longs"));
            assertArrayEquals(new double[] {2.5}, (double[]) m.get("auto.doubles"));
            assertArrayEquals(new boolean[] {true, false}, (boolean[]) m.get("auto.bools"));
            assertEquals(2.5f, m.get("auto.float"));
            assertEquals(List.copyOf(m.keySet()), keysInOrder());
        }
    }

    private static List<String> keysInOrder() {
        return List.of("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool", "str", "strs",
                "ints", "uints", "floats", "auto.int", "auto.negative", "auto.long", "auto.longs", "auto.doubles",
                "auto.bools", "auto.float");
    }

    @Test
    void headerAndTensorDataFollowTheGgufLayoutWithAlignedOffsets() throws Exception {
        Path p = dir.resolve("layout.gguf");
        // 3 floats = 12 bytes, so the next tensor's offset must be padded from 12 to 32.
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor("a", GgmlType.F32, new long[] {3}, new float[] {1f, 2f, 3f})
                .addTensor("b", GgmlType.F16, new long[] {2, 2}, new float[] {0.5f, -1f, 2f, 65504f})
                .write(p);
        byte[] raw = Files.readAllBytes(p);
        ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("GGUF", new String(raw, 0, 4, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(3, bb.getInt(4));
        assertEquals(2, bb.getLong(8), "tensor count");
        assertEquals(1, bb.getLong(16), "metadata count");
        assertEquals(0, raw.length % GgufWriter.ALIGNMENT, "file is padded to the alignment");
        try (GgufFile g = GgufFile.open(p)) {
            GgufTensor a = g.requireTensor("a");
            GgufTensor b = g.requireTensor("b");
            assertEquals(2.0f, a.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4));
            // "b" is 32 bytes after "a": 12 bytes of data, 20 of padding.
            // Data section: "a" (12 bytes + 20 padding), then "b" (8 bytes + 24 padding), at the end.
            int aAt = indexOf(raw, a);
            assertEquals(raw.length - 64, aAt, "a starts the data section");
            assertEquals(0, aAt % GgufWriter.ALIGNMENT, "the data section is aligned");
            assertEquals(32, b.data().address() - a.data().address());
            assertEquals((short) 0x7BFF, b.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 6));
        }
    }

    /** Where a tensor's bytes first occur in the file. */
    private static int indexOf(byte[] raw, GgufTensor t) {
        byte[] needle = t.data().toArray(ValueLayout.JAVA_BYTE);
        outer:
        for (int i = 0; i + needle.length <= raw.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (raw[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("tensor bytes not found");
    }

    @Test
    void rowsAreRequestedOncePerWriteInRowOrder() {
        List<Long> asked = new ArrayList<>();
        Path p = dir.resolve("rows.gguf");
        new GgufWriter().addTensor("t", GgmlType.Q8_0, new long[] {64, 3}, (row, out) -> {
            asked.add(row);
            java.util.Arrays.fill(out, row);
        }).write(p);
        assertEquals(List.of(0L, 1L, 2L), asked);
        try (GgufFile g = GgufFile.open(p)) {
            GgufTensor t = g.requireTensor("t");
            // Q8_0 block of all 2.0: d = 2/127, every q = 127, so byte 2 of row 2's first block is 127.
            assertEquals(127, t.data().get(ValueLayout.JAVA_BYTE, 2L * t.rowBytes() + 2));
        }
    }

    @Test
    void q8_0RoundsHalfwayAwayFromZeroLikeCsRoundf() {
        float[] x = new float[32];
        x[0] = 127f;   // amax 127: d = 1 exactly
        x[1] = 2.5f;   // roundf: 3
        x[2] = -2.5f;  // roundf: -3 (Math.round would give -2)
        x[3] = -127f;
        byte[] y = new byte[34];
        Quantizer.quantize(GgmlType.Q8_0, x, 0, 32, y, 0);
        assertEquals(0x00, y[0]);
        assertEquals(0x3C, y[1], "d = f16 1.0");
        assertEquals(127, y[2]);
        assertEquals(3, y[3]);
        assertEquals(-3, y[4]);
        assertEquals(-127, y[5]);
        assertEquals(0, y[6]);
    }

    @Test
    void q4_0MapsTheLargestMagnitudeToMinusEightAndClipsItsOpposite() {
        float[] x = new float[32];
        x[0] = -8f;   // max magnitude, negative: d = -8 / -8 = 1
        x[1] = 8f;    // 8 + 8.5 = 16.5 -> 16 -> clipped to 15 (decodes as 7)
        x[2] = 3f;    // 11
        x[16] = -2.4f; // -2.4 + 8.5 = 6.1 -> 6
        byte[] y = new byte[18];
        Quantizer.quantize(GgmlType.Q4_0, x, 0, 32, y, 0);
        assertEquals(0x3C, y[1], "d = f16 1.0");
        assertEquals(0x60, y[2] & 0xFF, "value 0 -> 0 (low), value 16 -> 6 (high)");
        assertEquals(0x8F, y[3] & 0xFF, "value 1 -> 15, value 17 (zero) -> 8");
        assertEquals(0x8B, y[4] & 0xFF, "value 2 -> 11");
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3F80, Quantizer.toBf16(Float.intBitsToFloat(0x3F808000)), "tie, even: down");
        assertEquals((short) 0x3F82, Quantizer.toBf16(Float.intBitsToFloat(0x3F818000)), "tie, odd: up");
        assertEquals((short) 0x3F81, Quantizer.toBf16(Float.intBitsToFloat(0x3F808001)), "above the tie: up");
        assertTrue(Float.isNaN(Float.intBitsToFloat(Quantizer.toBf16(Float.NaN) << 16)));
        assertTrue(Float.isNaN(Float.intBitsToFloat(Quantizer.toBf16(Float.intBitsToFloat(0x7FFFFFFF)) << 16)),
                "a NaN whose rounding would carry into infinity stays NaN");
    }

    @Test
    void q4KOfAConstantBlockUsesTheTopScaleAndLevelEverywhere() {
        float[] x = new float[256];
        java.util.Arrays.fill(x, 1.5f);
        byte[] y = new byte[144];
        Quantizer.quantize(GgmlType.Q4_K, x, 0, 256, y, 0);
        // Every sub-block: min 0, scale 1.5/15 = 0.1 -> 6-bit scale 63 with d = 0.1/63, level 15.
        assertEquals(Float.floatToFloat16(0.1f / 63), (short) ((y[0] & 0xFF) | (y[1] << 8)));
        assertEquals(0, y[2] | y[3], "dmin = 0");
        byte[] scales = java.util.Arrays.copyOfRange(y, 4, 16);
        // sc 0..3 = 63 in the low 6 bits, plus sc 4..7's top bits (63 >> 4 = 3) in the top 2: 0xFF.
        // mins are 0; bytes 8..11 hold sc 4..7's low 4 bits (15) and min low bits (0).
        assertArrayEquals(new byte[] {-1, -1, -1, -1, 0, 0, 0, 0, 0x0F, 0x0F, 0x0F, 0x0F}, scales);
        for (int i = 16; i < 144; i++) {
            assertEquals((byte) 0xFF, y[i], "both nibbles are level 15 at byte " + i);
        }
    }

    @Test
    void q6KOfAnAllZeroBlockIsAllZeroBytes() {
        byte[] y = new byte[210];
        java.util.Arrays.fill(y, (byte) 1);
        Quantizer.quantize(GgmlType.Q6_K, new float[256], 0, 256, y, 0);
        for (byte v : y) {
            assertEquals(0, v);
        }
    }

    @Test
    void refusesInputThatWouldMakeABadFile() {
        GgufWriter w = new GgufWriter().putString("k", "v").addTensor("t", GgmlType.F32, new long[] {1}, new float[1]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.putUInt32("k", 1)).getMessage()
                .contains("'k' was already added"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.F32, new long[] {1}, new float[1])).getMessage()
                .contains("'t' was already added"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("q", GgmlType.Q4_K, new long[] {288, 2}, (r, o) -> { })).getMessage()
                .contains("not a multiple of the Q4_K block size 256"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("x".repeat(64), GgmlType.F32, new long[] {1}, new float[1])).getMessage()
                .contains("longer than 63 bytes"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("n", GgmlType.F32, new long[] {2, 2}, new float[3])).getMessage()
                .contains("4 values) but 3 values were given"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.putUInt8("u8", 256)).getMessage()
                .contains("outside 0..255"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> w.put("obj", new Object())).getMessage()
                .contains("no GGUF equivalent"));
    }

    @Test
    void aFailedWriteLeavesNoPartialFile() {
        Path p = dir.resolve("partial.gguf");
        GgufWriter w = new GgufWriter().addTensor("t", GgmlType.F32, new long[] {4, 2}, (row, out) -> {
            if (row == 1) {
                throw new IllegalStateException("source failed");
            }
        });
        assertThrows(IllegalStateException.class, () -> w.write(p));
        assertFalse(Files.exists(p));
    }
}
