package io.batchllm.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * One block per type, bytes written by hand from the documented layout and expected values worked
 * out by hand, so that the layout itself is checked (a round trip through our own writer would only
 * show that writer and reader agree). Each block is decoded by both {@link Dequantize} and the
 * {@link Matrix} kernel, and multiplied by a one-hot vector to check the product picks the same value.
 */
class HandBuiltBlocksTest {

    private static GgufTensor tensor(GgmlType type, int cols, byte[] bytes) {
        assertEquals(type.bytesFor(cols), bytes.length, "test block size");
        return new GgufTensor("hand", type, new long[] {cols, 1}, MemorySegment.ofArray(bytes));
    }

    private static void assertDecodesTo(GgufTensor t, float[] expected) {
        float[] scalar = Dequantize.toFloat(t);
        assertArrayEquals(expected, scalar, "Dequantize " + t.type());
        Matrix m = Matrix.of(t);
        float[] kernel = new float[expected.length];
        m.dequantizeRow(0, kernel, 0);
        assertArrayEquals(expected, kernel, "Matrix " + t.type());
        for (int i : new int[] {0, 1, expected.length / 2, expected.length - 1}) {
            float[] oneHot = new float[expected.length];
            oneHot[i] = 1;
            float[] out = new float[1];
            m.matmul(oneHot, 1, out, 0, 1);
            assertEquals(expected[i], out[0], "matmul picking value " + i + " of " + t.type());
        }
    }

    @Test
    void f16BitPatternsDecodeToTheirHalfPrecisionValues() {
        // 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504 (largest half), 0x0001 = 2^-24 (smallest subnormal).
        byte[] b = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0x01, 0x00};
        assertDecodesTo(tensor(GgmlType.F16, 4, b), new float[] {1.0f, -2.0f, 65504f, 0x1p-24f});
    }

    @Test
    void bf16BitPatternsAreTheTopHalfOfAnF32() {
        // 0x3F80 = 1.0, 0xC0A0 = -5.0, 0x4049 = 3.140625, 0x0000 = 0.
        byte[] b = {(byte) 0x80, 0x3F, (byte) 0xA0, (byte) 0xC0, 0x49, 0x40, 0x00, 0x00};
        assertDecodesTo(tensor(GgmlType.BF16, 4, b), new float[] {1.0f, -5.0f, 3.140625f, 0f});
    }

    @Test
    void q8_0IsAnF16ScaleTimesSignedBytes() {
        byte[] b = new byte[34];
        b[0] = 0x00;
        b[1] = 0x38; // d = f16 0x3800 = 0.5
        byte[] q = {0, 1, -1, 127, -128, 2, 10, -10};
        System.arraycopy(q, 0, b, 2, q.length);
        b[2 + 31] = 64;
        float[] expected = new float[32];
        float[] values = {0, 0.5f, -0.5f, 63.5f, -64f, 1f, 5f, -5f};
        System.arraycopy(values, 0, expected, 0, values.length);
        expected[31] = 32f;
        assertDecodesTo(tensor(GgmlType.Q8_0, 32, b), expected);
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalfAndHighNibblesTheSecond() {
        byte[] b = new byte[18];
        b[0] = 0x00;
        b[1] = 0x40; // d = f16 0x4000 = 2.0
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) 0x88; // both nibbles 8: value 0
        }
        b[2] = (byte) 0x9F;  // value 0: (15-8)*2 = 14; value 16: (9-8)*2 = 2
        b[3] = 0x08;         // value 1: 0;            value 17: (0-8)*2 = -16
        b[17] = (byte) 0xF0; // value 15: (0-8)*2 = -16; value 31: (15-8)*2 = 14
        float[] expected = new float[32];
        expected[0] = 14;
        expected[16] = 2;
        expected[17] = -16;
        expected[15] = -16;
        expected[31] = 14;
        assertDecodesTo(tensor(GgmlType.Q4_0, 32, b), expected);
    }

    @Test
    void q4KUnpacksSixBitScalesAndMinsAndPairsSubBlocksByNibble() {
        // Chosen per sub-block: scale sc[j] and min m[j], 6 bits each. Sub-blocks 4..7 need their top
        // two bits stored in the spare bits of bytes 0..7.
        int[] sc = {1, 3, 10, 63, 17, 5, 7, 63};
        int[] m = {2, 0, 4, 1, 33, 0, 0, 16};
        byte[] b = new byte[144];
        b[0] = 0x00;
        b[1] = 0x3C; // d = 1.0
        b[2] = 0x00;
        b[3] = 0x38; // dmin = 0.5
        byte[] scales = {
            0x41,        // sc0 = 1, top bits of sc4 = 17 >> 4 = 1
            0x03,        // sc1 = 3, sc5 = 5 has no top bits
            0x0A,        // sc2 = 10
            (byte) 0xFF, // sc3 = 63, top bits of sc7 = 63 >> 4 = 3
            (byte) 0x82, // m0 = 2, top bits of m4 = 33 >> 4 = 2
            0x00,        // m1 = 0
            0x04,        // m2 = 4
            0x41,        // m3 = 1, top bits of m7 = 16 >> 4 = 1
            0x11,        // sc4 low 4 bits = 1, m4 low 4 bits = 1
            0x05,        // sc5 = 5, m5 = 0
            0x07,        // sc6 = 7, m6 = 0
            0x0F,        // sc7 low 4 bits = 15, m7 low 4 bits = 0
        };
        System.arraycopy(scales, 0, b, 4, 12);
        // Group g of 32 bytes: low nibble l%16 feeds sub-block 2g, high nibble (l+g)%16 sub-block 2g+1.
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                b[16 + 32 * g + l] = (byte) ((l & 0xF) | (((l + g) & 0xF) << 4));
            }
        }
        float[] expected = new float[256];
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                expected[64 * g + l] = 1.0f * sc[2 * g] * (l & 0xF) - 0.5f * m[2 * g];
                expected[64 * g + 32 + l] = 1.0f * sc[2 * g + 1] * ((l + g) & 0xF) - 0.5f * m[2 * g + 1];
            }
        }
        // Spot values worked out in full: sub-block 4 (sc 17, m 33) at l = 5: 17*5 - 16.5 = 68.5;
        // sub-block 7 (sc 63, m 16) at l = 0: 63*((0+3)%16) - 8 = 181.
        assertEquals(68.5f, expected[128 + 5]);
        assertEquals(181f, expected[192 + 32]);
        assertDecodesTo(tensor(GgmlType.Q4_K, 256, b), expected);
    }

    @Test
    void q6KCombinesFourLowBitsFromQlWithTwoHighBitsFromQh() {
        byte[] b = new byte[210];
        // ql[0..127], qh[128..191], scales[192..207], d[208..209]
        b[208] = 0x00;
        b[209] = 0x34; // d = f16 0x3400 = 0.25
        byte[] scales = {2, 1, -1, 1, 3, 1, 1, 1, 4, 1, 1, 1, 1, 1, 1, -2};
        System.arraycopy(scales, 0, b, 192, 16);
        b[0] = 0x21;         // ql[0]:  value 0 low bits 1, value 64 low bits 2
        b[32] = 0x43;        // ql[32]: value 32 low bits 3, value 96 low bits 4
        b[128] = (byte) 0xE4; // qh[0] = 0b11_10_01_00: top bits 0 (value 0), 1 (32), 2 (64), 3 (96)
        // Every other value has q = 0, i.e. (0 - 32) * d * scale of its sub-block of 16.
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = -32 * 0.25f * scales[i / 16];
        }
        expected[0] = 0.25f * 2 * (1 - 32);          // q = 1:            -15.5
        expected[32] = 0.25f * -1 * ((3 | 16) - 32);  // q = 3 + 16 = 19:   3.25
        expected[64] = 0.25f * 3 * ((2 | 32) - 32);   // q = 2 + 32 = 34:   1.5
        expected[96] = 0.25f * 1 * ((4 | 48) - 32);   // q = 4 + 48 = 52:   5
        assertEquals(-15.5f, expected[0]);
        assertEquals(3.25f, expected[32]);
        assertEquals(-32f, expected[128]);            // second half, scale 4
        assertEquals(16f, expected[255]);             // last sub-block, scale -2
        assertDecodesTo(tensor(GgmlType.Q6_K, 256, b), expected);
    }

    @Test
    void f32IsReadInPlace() {
        byte[] b = {0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x20, (byte) 0xC1}; // 1.0, -10.0
        assertDecodesTo(tensor(GgmlType.F32, 2, b), new float[] {1.0f, -10.0f});
    }
}
