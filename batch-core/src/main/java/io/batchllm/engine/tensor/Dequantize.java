package io.batchllm.engine.tensor;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain scalar decoding of every supported tensor type to F32, written to mirror llama.cpp's
 * {@code dequantize_row_*} functions line by line. It is the reference the vectorized kernels are
 * tested against, and what embedding lookups and tools use.
 *
 * <p>Block layouts (little-endian; {@code f16} is IEEE half precision, {@code bf16} the top half of
 * an F32):
 * <ul>
 *   <li>Q8_0, 32 values in 34 bytes: {@code f16 d; int8 q[32]}; x = d·q.
 *   <li>Q4_0, 32 values in 18 bytes: {@code f16 d; u8 qs[16]}; the low nibble of byte j is value j,
 *       the high nibble value j+16; x = d·(nibble − 8).
 *   <li>Q4_K, 256 values in 144 bytes: {@code f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}. Eight
 *       sub-blocks of 32 have a 6-bit scale {@code sc} and min {@code m} (see {@link #scaleMinK4});
 *       each 32-byte group of {@code qs} holds sub-block 2i in its low nibbles and 2i+1 in its high
 *       nibbles; x = d·sc·q − dmin·m.
 *   <li>Q6_K, 256 values in 210 bytes: {@code u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}. In
 *       each half of 128 values, value l + 32k (k = 0..3) takes its low 4 bits from {@code ql[l]}
 *       (k = 0, 2: low/high nibble) or {@code ql[l+32]} (k = 1, 3) and its top 2 bits from bits 2k of
 *       {@code qh[l]}; x = d·scales[sub-block of 16]·(q − 32).
 *   <li>Q4_1, 32 values in 20 bytes: {@code f16 d; f16 m; u8 qs[16]}, nibbles as Q4_0; x = d·q + m.
 *   <li>Q5_0, 32 values in 22 bytes: {@code f16 d; u8 qh[4]; u8 qs[16]}: nibbles as Q4_0, bit j of the
 *       little-endian u32 {@code qh} is the fifth bit of value j; x = d·(q − 16).
 *   <li>Q5_1, 32 values in 24 bytes: {@code f16 d; f16 m; u8 qh[4]; u8 qs[16]}, bits as Q5_0;
 *       x = d·q + m.
 *   <li>Q2_K, 256 values in 84 bytes: {@code u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}. Sixteen
 *       sub-blocks of 16, each with a 4-bit scale (low nibble) and min (high nibble); in each half of
 *       128 values, value l + 32k (k = 0..3, l < 32) is bits 2k..2k+1 of {@code qs[l]} (of that half's
 *       32 bytes); x = d·scale·q − dmin·min.
 *   <li>Q3_K, 256 values in 110 bytes: {@code u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}. The 2
 *       low bits are placed as Q2_K's; the third bit of value {@code 32m + l} is bit m of
 *       {@code hmask[l]}, and a clear bit means −4; sixteen 6-bit scales (see {@link #scaleQ3K}),
 *       stored +32; x = d·(scale − 32)·(q − (bit ? 0 : 4)).
 *   <li>Q5_K, 256 values in 176 bytes: {@code f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}:
 *       Q4_K's scales and nibbles, plus the fifth bit of value {@code 32i + l} in bit i of
 *       {@code qh[l]}; x = d·sc·q − dmin·m.
 *   <li>IQ4_NL, 32 values in 18 bytes: {@code f16 d; u8 qs[16]}, nibbles as Q4_0 but each an index
 *       into the non-linear table {@link #IQ4_NL_VALUES}; x = d·table[nibble].
 *   <li>IQ4_XS, 256 values in 136 bytes: {@code f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}.
 *       Eight sub-blocks of 32 as IQ4_NL blocks, each with a 6-bit scale: the low 4 bits are nibble
 *       {@code ib % 2} of {@code scales_l[ib/2]}, the top 2 bits are bits 2·ib of {@code scales_h};
 *       x = d·(scale − 32)·table[nibble].
 * </ul>
 *
 * <p>Stateless and thread safe.
 */
public final class Dequantize {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** ggml's {@code kvalues_iq4nl}: the 16 levels of IQ4_NL and IQ4_XS, denser near zero. */
    static final byte[] IQ4_NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private Dequantize() {
    }

    /**
     * All values of a tensor as F32, {@code ne[0]} fastest.
     *
     * @throws IllegalArgumentException if the tensor has more than {@code Integer.MAX_VALUE - 8} values
     */
    public static float[] toFloat(GgufTensor tensor) {
        long n = tensor.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + n
                    + " values, too many for one float[]; decode it row by row with dequantizeRow");
        }
        float[] out = new float[(int) n];
        long rows = tensor.rowCount();
        int cols = (int) tensor.rowLength();
        for (long r = 0; r < rows; r++) {
            dequantizeRow(tensor, r, out, (int) (r * cols));
        }
        return out;
    }

    /** Decodes row {@code row} ({@code ne[0]} values) into {@code out[offset ..]}. */
    public static void dequantizeRow(GgufTensor tensor, long row, float[] out, int offset) {
        if (row < 0 || row >= tensor.rowCount()) {
            throw new IndexOutOfBoundsException("row " + row + " of tensor " + tensor.name() + " with "
                    + tensor.rowCount() + " rows");
        }
        GgmlType type = tensor.type();
        int cols = (int) tensor.rowLength();
        MemorySegment data = tensor.data();
        long base = row * tensor.rowBytes();
        int blocks = cols / type.blockSize();
        for (int b = 0; b < blocks; b++) {
            long at = base + (long) b * type.blockBytes();
            int o = offset + b * type.blockSize();
            switch (type) {
                case F32 -> out[o] = data.get(LE_FLOAT, at);
                case F16 -> out[o] = Float.float16ToFloat(data.get(LE_SHORT, at));
                case BF16 -> out[o] = bf16ToFloat(data.get(LE_SHORT, at));
                case Q8_0 -> q8_0(data, at, out, o);
                case Q4_0 -> q4_0(data, at, out, o);
                case Q4_K -> q4K(data, at, out, o);
                case Q6_K -> q6K(data, at, out, o);
                case Q4_1 -> q4_1(data, at, out, o);
                case Q5_0 -> q5_0(data, at, out, o);
                case Q5_1 -> q5_1(data, at, out, o);
                case Q2_K -> q2K(data, at, out, o);
                case Q3_K -> q3K(data, at, out, o);
                case Q5_K -> q5K(data, at, out, o);
                case IQ4_NL -> iq4Nl(data, at, out, o);
                case IQ4_XS -> iq4Xs(data, at, out, o);
            }
        }
    }

    /** BF16 is the top 16 bits of an F32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    private static void q8_0(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        for (int j = 0; j < 32; j++) {
            out[o + j] = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
        }
    }

    private static void q4_0(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            out[o + j] = ((q & 0x0F) - 8) * d;
            out[o + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    private static void q4K(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        float min = Float.float16ToFloat(s.get(LE_SHORT, at + 2));
        byte[] scales = s.asSlice(at + 4, 12).toArray(ValueLayout.JAVA_BYTE);
        long q = at + 16;
        int y = o;
        int[] sm = new int[2];
        for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
            scaleMinK4(is, scales, sm);
            float d1 = d * sm[0];
            float m1 = min * sm[1];
            scaleMinK4(is + 1, scales, sm);
            float d2 = d * sm[0];
            float m2 = min * sm[1];
            for (int l = 0; l < 32; l++) {
                out[y++] = d1 * (u8(s, q + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; l++) {
                out[y++] = d2 * (u8(s, q + l) >> 4) - m2;
            }
            q += 32;
        }
    }

    /**
     * ggml's {@code get_scale_min_k4}: sub-block j's 6-bit scale and min from Q4_K's 12 scale bytes.
     * Sub-blocks 0..3 use the low 6 bits of bytes j (scale) and j+4 (min); sub-blocks 4..7 take their
     * low 4 bits from byte j+4 (scale: low nibble, min: high nibble) and their top 2 bits from the top
     * bits of bytes j−4 (scale) and j (min).
     */
    static void scaleMinK4(int j, byte[] q, int[] scaleAndMin) {
        if (j < 4) {
            scaleAndMin[0] = q[j] & 63;
            scaleAndMin[1] = q[j + 4] & 63;
        } else {
            scaleAndMin[0] = (q[j + 4] & 0xF) | (((q[j - 4] & 0xFF) >> 6) << 4);
            scaleAndMin[1] = ((q[j + 4] & 0xFF) >> 4) | (((q[j] & 0xFF) >> 6) << 4);
        }
    }

    private static void q6K(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at + 208));
        long ql = at;
        long qh = at + 128;
        long sc = at + 192;
        int y = o;
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                out[y + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                out[y + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                out[y + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                out[y + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    private static void q4_1(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        float m = Float.float16ToFloat(s.get(LE_SHORT, at + 2));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 4 + j);
            out[o + j] = (q & 0x0F) * d + m;
            out[o + j + 16] = (q >> 4) * d + m;
        }
    }

    private static void q5_0(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        int qh = s.get(LE_INT, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 6 + j);
            out[o + j] = (((q & 0x0F) | ((qh >>> j) & 1) << 4) - 16) * d;
            out[o + j + 16] = (((q >> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16) * d;
        }
    }

    private static void q5_1(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        float m = Float.float16ToFloat(s.get(LE_SHORT, at + 2));
        int qh = s.get(LE_INT, at + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 8 + j);
            out[o + j] = ((q & 0x0F) | ((qh >>> j) & 1) << 4) * d + m;
            out[o + j + 16] = ((q >> 4) | ((qh >>> (j + 16)) & 1) << 4) * d + m;
        }
    }

    private static void q2K(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at + 80));
        float min = Float.float16ToFloat(s.get(LE_SHORT, at + 82));
        long q = at + 16;
        int y = o;
        int is = 0;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 32; half += 16) {
                    int sc = u8(s, at + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        out[y++] = dl * ((u8(s, q + half + l) >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    private static void q3K(MemorySegment s, long at, float[] out, int o) {
        float dAll = Float.float16ToFloat(s.get(LE_SHORT, at + 108));
        byte[] scales = s.asSlice(at + 96, 12).toArray(ValueLayout.JAVA_BYTE);
        long hm = at;
        long q = at + 32;
        int y = o;
        int is = 0;
        int m = 1;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 32; half += 16) {
                    float dl = dAll * (scaleQ3K(scales, 0, is++) - 32);
                    for (int l = half; l < half + 16; l++) {
                        int low = (u8(s, q + l) >> shift) & 3;
                        out[y++] = dl * (low - ((u8(s, hm + l) & m) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    /**
     * Q3_K's 6-bit scale {@code j} (of 16, still offset by 32) from the 12 scale bytes at {@code b[at]}:
     * its low 4 bits are in byte {@code j % 8} (the low nibble for j < 8, the high one after), its top 2
     * bits are bits {@code 2·(j / 4)} of byte {@code 8 + j % 4}.
     */
    static int scaleQ3K(byte[] b, int at, int j) {
        int low = j < 8 ? b[at + j] & 0xF : (b[at + j - 8] & 0xFF) >> 4;
        int high = ((b[at + 8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3;
        return low | high << 4;
    }

    private static void q5K(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        float min = Float.float16ToFloat(s.get(LE_SHORT, at + 2));
        byte[] scales = s.asSlice(at + 4, 12).toArray(ValueLayout.JAVA_BYTE);
        long qh = at + 16;
        long ql = at + 48;
        int y = o;
        int[] sm = new int[2];
        int u1 = 1;
        int u2 = 2;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            scaleMinK4(is, scales, sm);
            float d1 = d * sm[0];
            float m1 = min * sm[1];
            scaleMinK4(is + 1, scales, sm);
            float d2 = d * sm[0];
            float m2 = min * sm[1];
            for (int l = 0; l < 32; l++) {
                out[y++] = d1 * ((u8(s, ql + l) & 0xF) + ((u8(s, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; l++) {
                out[y++] = d2 * ((u8(s, ql + l) >> 4) + ((u8(s, qh + l) & u2) != 0 ? 16 : 0)) - m2;
            }
        }
    }

    private static void iq4Nl(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            out[o + j] = d * IQ4_NL_VALUES[q & 0xF];
            out[o + j + 16] = d * IQ4_NL_VALUES[q >> 4];
        }
    }

    private static void iq4Xs(MemorySegment s, long at, float[] out, int o) {
        float d = Float.float16ToFloat(s.get(LE_SHORT, at));
        int scalesH = Short.toUnsignedInt(s.get(LE_SHORT, at + 2));
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(s, at + 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            long qs = at + 8 + 16 * ib;
            int y = o + 32 * ib;
            for (int j = 0; j < 16; j++) {
                int q = u8(s, qs + j);
                out[y + j] = dl * IQ4_NL_VALUES[q & 0xF];
                out[y + j + 16] = dl * IQ4_NL_VALUES[q >> 4];
            }
        }
    }

    private static int u8(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, at));
    }
}
