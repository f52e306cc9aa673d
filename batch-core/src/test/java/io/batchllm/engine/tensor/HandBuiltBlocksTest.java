package io.batchllm.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
    void q4_1AddsTheMinimumToTheScaledNibbles() {
        byte[] b = new byte[20];
        b[1] = 0x38;         // d = 0.5
        b[3] = (byte) 0xBC;  // m = -1.0
        for (int j = 0; j < 16; j++) {
            b[4 + j] = 0x11; // both nibbles 1: 0.5 - 1 = -0.5
        }
        b[4] = 0x3F;         // value 0: 15 * 0.5 - 1 = 6.5;  value 16: 3 * 0.5 - 1 = 0.5
        b[5] = 0x00;         // value 1: -1;                  value 17: -1
        b[19] = (byte) 0xF2; // value 15: 2 * 0.5 - 1 = 0;    value 31: 6.5
        float[] expected = new float[32];
        Arrays.fill(expected, -0.5f);
        expected[0] = 6.5f;
        expected[16] = 0.5f;
        expected[1] = -1f;
        expected[17] = -1f;
        expected[15] = 0f;
        expected[31] = 6.5f;
        assertDecodesTo(tensor(GgmlType.Q4_1, 32, b), expected);
    }

    @Test
    void q5_0TakesEachValuesFifthBitFromItsBitOfTheLittleEndianWord() {
        byte[] b = new byte[22];
        b[1] = 0x3C;                                  // d = 1.0
        byte[] qh = {0x01, 0x00, 0x01, (byte) 0x80};  // bits 0, 16 and 31
        System.arraycopy(qh, 0, b, 2, 4);
        b[6] = (byte) 0xF0;  // value 0: 0 | 16 = 16 -> 0;   value 16: 15 | 16 = 31 -> 15
        b[21] = 0x0F;        // value 15: 15 -> -1;         value 31: 0 | 16 -> 0
        float[] expected = new float[32];
        Arrays.fill(expected, -16f);        // q = 0 without its fifth bit
        expected[0] = 0f;
        expected[16] = 15f;
        expected[15] = -1f;
        expected[31] = 0f;
        assertDecodesTo(tensor(GgmlType.Q5_0, 32, b), expected);
    }

    @Test
    void q5_1ScalesFiveBitLevelsAndAddsTheMinimum() {
        byte[] b = new byte[24];
        b[1] = 0x34;                                  // d = 0.25
        b[3] = 0x3C;                                  // m = 1.0
        byte[] qh = {0x02, 0x00, 0x02, 0x00};         // bits 1 and 17
        System.arraycopy(qh, 0, b, 4, 4);
        b[9] = 0x21;         // value 1: 1 | 16 = 17 -> 17 * 0.25 + 1 = 5.25; value 17: 2 | 16 = 18 -> 5.5
        float[] expected = new float[32];
        Arrays.fill(expected, 1f);
        expected[1] = 5.25f;
        expected[17] = 5.5f;
        assertDecodesTo(tensor(GgmlType.Q5_1, 32, b), expected);
    }

    @Test
    void q2KReadsFourTwoBitFieldsPerByteWithAScaleAndMinPerSixteenValues() {
        byte[] b = new byte[84];
        // scales[0..15] (low nibble scale, high nibble min), qs[16..79], d[80..81], dmin[82..83]
        Arrays.fill(b, 0, 16, (byte) 0x11);
        b[0] = 0x21;          // sub-block 0: scale 1, min 2
        b[1] = 0x03;          // sub-block 1: scale 3, min 0
        b[15] = (byte) 0xF7;  // sub-block 15: scale 7, min 15
        b[81] = 0x38;         // d = 0.5
        b[83] = 0x34;         // dmin = 0.25
        b[16] = (byte) 0xE4;  // qs[0] = 0b11_10_01_00: values 0, 32, 64, 96 get 0, 1, 2, 3
        b[32] = 0x03;         // qs[16]: value 16 gets 3, value 48 gets 0
        b[79] = (byte) 0xC0;  // qs[63], the second half's byte 31: value 255 (bits 6..7) gets 3
        int[] scale = new int[16];
        int[] min = new int[16];
        for (int j = 0; j < 16; j++) {
            scale[j] = b[j] & 0xF;
            min[j] = (b[j] & 0xFF) >> 4;
        }
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            int q = 0;                                 // every other level is 0
            expected[i] = 0.5f * scale[i / 16] * q - 0.25f * min[i / 16];
        }
        expected[0] = 0.5f * 1 * 0 - 0.25f * 2;       // -0.5
        expected[32] = 0.5f * 1 * 1 - 0.25f * 1;      // 0.25 (sub-block 2)
        expected[64] = 0.5f * 1 * 2 - 0.25f * 1;      // 0.75 (sub-block 4)
        expected[96] = 0.5f * 1 * 3 - 0.25f * 1;      // 1.25 (sub-block 6)
        expected[16] = 0.5f * 3 * 3;                  // 4.5 (sub-block 1, min 0)
        expected[255] = 0.5f * 7 * 3 - 0.25f * 15;    // 6.75 (sub-block 15)
        assertEquals(-0.5f, expected[0]);
        assertEquals(6.75f, expected[255]);
        assertEquals(-0.25f, expected[48]);
        assertDecodesTo(tensor(GgmlType.Q2_K, 256, b), expected);
    }

    @Test
    void q3KUnpacksSixBitScalesAndSubtractsFourWhereTheHighBitIsClear() {
        byte[] b = new byte[110];
        // hmask[0..31], qs[32..95], scales[96..107], d[108..109]
        b[109] = 0x3C; // d = 1.0
        // Stored 6-bit scales (effective = stored - 32): s0 = 33 (1), s1 = 34 (2), s15 = 0 (-32), the
        // rest 31 (-1). Low nibbles: s0..s7 in bytes 0..7, s8..s15 in their high nibbles; top two bits
        // of s_j in bits 2*(j/4) of byte 8 + j%4.
        byte[] scales = {
            (byte) 0xF1, (byte) 0xF2, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F,
            0x56,        // top bits of s0 = 2, s4 = 1, s8 = 1, s12 = 1
            0x56,        // s1 = 2, s5, s9, s13 = 1
            0x55,        // s2, s6, s10, s14 = 1
            0x15,        // s3, s7, s11 = 1, s15 = 0
        };
        System.arraycopy(scales, 0, b, 96, 12);
        b[0] = 0x01;          // hmask[0] bit 0: value 0 keeps its level
        b[32] = 0x03;         // qs[0] bits 0..1: value 0 has low bits 3
        b[48] = 0x01;         // qs[16] bits 0..1: value 16 has low bits 1 (its high bit is clear)
        b[31] = (byte) 0x80;  // hmask[31] bit 7: value 255 = 32*7 + 31 keeps its level
        b[95] = (byte) 0x80;  // qs[63] bits 6..7: value 255 has low bits 2
        int[] effective = new int[16];
        Arrays.fill(effective, -1);
        effective[0] = 1;
        effective[1] = 2;
        effective[15] = -32;
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = effective[i / 16] * (0 - 4);    // low bits 0, high bit clear
        }
        expected[0] = 1 * 3;           // 3
        expected[16] = 2 * (1 - 4);    // -6
        expected[255] = -32 * 2;       // -64
        assertEquals(4f, expected[32]); // sub-block 2 (scale -1), level 0 - 4
        assertDecodesTo(tensor(GgmlType.Q3_K, 256, b), expected);
    }

    @Test
    void q5KAddsSixteenWhereTheSubBlocksBitOfQhIsSet() {
        byte[] b = new byte[176];
        b[1] = 0x3C; // d = 1.0
        b[3] = 0x38; // dmin = 0.5
        // sub-block j: scale j + 1 (all below 16, so no top bits), min 2 for sub-block 1 and 0 otherwise
        int[] sc = {1, 2, 3, 4, 5, 6, 7, 8};
        int[] m = {0, 2, 0, 0, 0, 0, 0, 0};
        for (int j = 0; j < 4; j++) {
            b[4 + j] = (byte) sc[j];
            b[4 + j + 4] = (byte) m[j];
            b[4 + j + 8] = (byte) (sc[j + 4] | (m[j + 4] << 4));
        }
        // qh[l] = l: the fifth bit of value 32i + l is bit i of l.
        for (int l = 0; l < 32; l++) {
            b[16 + l] = (byte) l;
        }
        // qs group g: low nibble l % 16 for sub-block 2g, high nibble (l + g) % 16 for sub-block 2g + 1.
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                b[48 + 32 * g + l] = (byte) ((l & 0xF) | (((l + g) & 0xF) << 4));
            }
        }
        float[] expected = new float[256];
        for (int i = 0; i < 8; i++) {
            for (int l = 0; l < 32; l++) {
                int nibble = i % 2 == 0 ? l & 0xF : (l + i / 2) & 0xF;
                int q = nibble + 16 * ((l >> i) & 1);
                expected[32 * i + l] = 1.0f * sc[i] * q - 0.5f * m[i];
            }
        }
        assertEquals(17f, expected[1]);        // sub-block 0, l = 1: nibble 1, bit 0 of 1 set: 17
        assertEquals(9f, expected[32 + 5]);    // sub-block 1, l = 5: nibble 5, bit 1 of 5 clear: 2*5 - 1
        assertEquals(80f, expected[128 + 16]); // sub-block 4, l = 16: nibble 0, bit 4 of 16 set: 5*16
        assertDecodesTo(tensor(GgmlType.Q5_K, 256, b), expected);
    }

    @Test
    void iq4NlLooksEachNibbleUpInTheNonLinearTable() {
        byte[] b = new byte[18];
        b[1] = 0x40; // d = 2.0
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) 0x88; // table[8] = 1: both values 2
        }
        b[2] = (byte) 0xF0;  // value 0: 2 * table[0] = -254; value 16: 2 * table[15] = 226
        b[17] = (byte) 0x87; // value 15: 2 * table[7] = -20; value 31: 2 * table[8] = 2
        float[] expected = new float[32];
        Arrays.fill(expected, 2f);
        expected[0] = -254f;
        expected[16] = 226f;
        expected[15] = -20f;
        assertDecodesTo(tensor(GgmlType.IQ4_NL, 32, b), expected);
    }

    @Test
    void iq4XsScalesEachSubBlockBySixBitsSplitBetweenScalesLowAndScalesHigh() {
        byte[] b = new byte[136];
        b[1] = 0x38; // d = 0.5
        // 6-bit scales (effective = stored - 32): sub-block 0: 33 (1), 1: 31 (-1), 7: 0 (-32), others 34 (2)
        b[2] = (byte) 0xA6;   // scales_h = 0x2AA6: top bits 2, 1, 2, 2, 2, 2, 2, 0
        b[3] = 0x2A;
        b[4] = (byte) 0xF1;   // scales_l[0]: low bits of sub-blocks 0 (1) and 1 (15)
        b[5] = 0x22;
        b[6] = 0x22;
        b[7] = 0x02;          // sub-block 6: 2, sub-block 7: 0
        for (int j = 8; j < 136; j++) {
            b[j] = (byte) 0x88; // table[8] = 1
        }
        b[8] = (byte) 0xF0;   // value 0: 0.5 * 1 * -127 = -63.5; value 16: 0.5 * 1 * 113 = 56.5
        b[24] = 0x00;         // sub-block 1: values 32 and 48: 0.5 * -1 * -127 = 63.5
        b[135] = (byte) 0x9A; // sub-block 7: value 239: 0.5 * -32 * table[10] = -400; value 255: table[9]: -208
        int[] effective = {1, -1, 2, 2, 2, 2, 2, -32};
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = 0.5f * effective[i / 32] * 1;
        }
        expected[0] = -63.5f;
        expected[16] = 56.5f;
        expected[32] = 63.5f;
        expected[48] = 63.5f;
        expected[239] = -400f;
        expected[255] = -208f;
        assertEquals(1f, expected[64]);
        assertDecodesTo(tensor(GgmlType.IQ4_XS, 256, b), expected);
    }

    @Test
    void f32IsReadInPlace() {
        byte[] b = {0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x20, (byte) 0xC1}; // 1.0, -10.0
        assertDecodesTo(tensor(GgmlType.F32, 2, b), new float[] {1.0f, -10.0f});
    }
}
