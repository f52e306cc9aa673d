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
 * </ul>
 *
 * <p>Stateless and thread safe.
 */
public final class Dequantize {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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

    private static int u8(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, at));
    }
}
