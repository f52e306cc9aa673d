package io.batchllm.engine.gguf;

import java.util.Arrays;

/**
 * llama.cpp's reference quantizers for Q2_K, Q3_K and Q5_K ({@code quantize_row_q2_K_ref},
 * {@code _q3_K_ref}, {@code _q5_K_ref}: what {@code llama-quantize} writes without an importance
 * matrix), in {@code float} and in the C code's order. Each fits per-sub-block scales (and mins),
 * quantizes those to 4 or 6 bits against the super-block's largest, then re-quantizes the values
 * against the rounded scales the decoder will use. Stateless and thread safe.
 */
final class KQuantizers {
    private KQuantizers() {
    }

    static void quantize(GgmlType type, float[] x, int xOff, int n, byte[] y, int yOff) {
        for (int b = 0; b < n / 256; b++) {
            int xo = xOff + 256 * b;
            int yo = yOff + type.blockBytes() * b;
            switch (type) {
                case Q2_K -> q2KBlock(x, xo, y, yo);
                case Q3_K -> q3KBlock(x, xo, y, yo);
                case Q5_K -> q5KBlock(x, xo, y, yo);
                default -> throw new IllegalArgumentException(type + " is not Q2_K, Q3_K or Q5_K");
            }
        }
    }

    /** {@code quantize_row_q2_K_ref} for one super-block: 16 sub-blocks of 16, 4-bit scales and mins. */
    private static void q2KBlock(float[] x, int xo, byte[] y, int yo) {
        byte[] levels = new byte[256];
        byte[] aux = new byte[16];
        float[] weights = new float[16];
        float[] mins = new float[16];
        float[] scales = new float[16];
        float[] theMin = new float[1];
        final float q4scale = 15.f;
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            scales[j] = Quantizer.makeQkx2Quants(16, 3, x, xo + 16 * j, weights, levels, 16 * j, theMin, aux,
                    -0.5f, 0.1f, 15, true);
            mins[j] = theMin[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        int[] packed = new int[16];
        short dBits = 0;
        if (maxScale > 0) {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < 16; j++) {
                packed[j] = Quantizer.nearestInt(iscale * scales[j]) & 0xFF;
            }
            dBits = Float.floatToFloat16(maxScale / q4scale);
        }
        short dminBits = 0;
        if (maxMin > 0) {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < 16; j++) {
                packed[j] = (packed[j] | Quantizer.nearestInt(iscale * mins[j]) << 4) & 0xFF;
            }
            dminBits = Float.floatToFloat16(maxMin / q4scale);
        }
        for (int j = 0; j < 16; j++) {
            y[yo + j] = (byte) packed[j];
        }
        Quantizer.putShort(y, yo + 80, dBits);
        Quantizer.putShort(y, yo + 82, dminBits);
        float d16 = Float.float16ToFloat(dBits);
        float dmin16 = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 16; j++) {
            float d = d16 * (packed[j] & 0xF);
            if (d == 0) {
                continue;
            }
            float dm = dmin16 * (packed[j] >> 4);
            for (int ii = 0; ii < 16; ii++) {
                int l = Quantizer.nearestInt((x[xo + 16 * j + ii] + dm) / d);
                levels[16 * j + ii] = (byte) Math.max(0, Math.min(3, l));
            }
        }
        packTwoBits(levels, y, yo + 16);
    }

    /** {@code quantize_row_q3_K_ref} for one super-block: 16 sub-blocks of 16, signed 6-bit scales. */
    private static void q3KBlock(float[] x, int xo, byte[] y, int yo) {
        int[] levels = new int[256];
        float[] scales = new float[16];
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, levels, 16 * j);
            float scale = Math.abs(scales[j]);
            if (scale > amax) {
                amax = scale;
                maxScale = scales[j];
            }
        }
        int sc = yo + 96;
        Arrays.fill(y, sc, sc + 12, (byte) 0);
        short dBits = 0;
        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = Math.max(-32, Math.min(31, (byte) Quantizer.nearestInt(iscale * scales[j]))) + 32;
                if (j < 8) {
                    y[sc + j] = (byte) (l & 0xF);
                } else {
                    y[sc + j - 8] |= (byte) ((l & 0xF) << 4);
                }
                y[sc + 8 + j % 4] |= (byte) ((l >> 4) << (2 * (j / 4)));
            }
            dBits = Float.floatToFloat16(1 / iscale);
        }
        Quantizer.putShort(y, yo + 108, dBits);
        float d16 = Float.float16ToFloat(dBits);
        for (int j = 0; j < 16; j++) {
            int s = (j < 8 ? y[sc + j] & 0xF : (y[sc + j - 8] & 0xFF) >> 4)
                    | (((y[sc + 8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3) << 4;
            float d = d16 * (s - 32);
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = Quantizer.nearestInt(x[xo + 16 * j + ii] / d);
                levels[16 * j + ii] = Math.max(-4, Math.min(3, l)) + 4;
            }
        }
        // The third bit of value j goes to bit j / 32 of hmask[j % 32]; the two low bits stay.
        Arrays.fill(y, yo, yo + 32, (byte) 0);
        byte[] low = new byte[256];
        for (int j = 0; j < 256; j++) {
            int l = levels[j];
            if (l > 3) {
                y[yo + j % 32] |= (byte) (1 << (j / 32));
                l -= 4;
            }
            low[j] = (byte) l;
        }
        packTwoBits(low, y, yo + 32);
    }

    /**
     * ggml's {@code make_q3_quants} with {@code do_rmse}: a signed scale with L in [−nmax, nmax−1],
     * refined by up to five passes that move single levels while the x²-weighted fit improves.
     * Returns the scale; {@code levels} get L + nmax.
     */
    private static float makeQ3Quants(int n, int nmax, float[] x, int xo, int[] levels, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < 1e-15f) {
            Arrays.fill(levels, lo, lo + n, 0);
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, Quantizer.nearestInt(iscale * x[xo + i])));
            levels[lo + i] = l;
            float w = x[xo + i] * x[xo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                float w = xi * xi;
                int li = levels[lo + i];
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = Math.max(-nmax, Math.min(nmax - 1, Quantizer.nearestInt(xi * sl2 / slx)));
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[lo + i] = newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            levels[lo + i] += nmax;
        }
        return sumlx / suml2;
    }

    /** {@code quantize_row_q5_K_ref} for one super-block: Q4_K's fit with 32 levels and a fifth bit. */
    private static void q5KBlock(float[] x, int xo, byte[] y, int yo) {
        byte[] levels = new byte[256];
        Quantizer.fitScalesAndMins(x, xo, 31, -0.5f, 15, y, yo, levels);
        // Sub-block i's fifth bits go to bit i of qh[l]; its low nibbles pair up as Q4_K's.
        int qh = yo + 16;
        int ql = yo + 48;
        Arrays.fill(y, qh, qh + 32, (byte) 0);
        for (int n = 0, bit = 0; n < 256; n += 64, bit += 2, ql += 32) {
            for (int j = 0; j < 32; j++) {
                int l1 = levels[n + j];
                if (l1 > 15) {
                    l1 -= 16;
                    y[qh + j] |= (byte) (1 << bit);
                }
                int l2 = levels[n + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    y[qh + j] |= (byte) (2 << bit);
                }
                y[ql + j] = (byte) (l1 | (l2 << 4));
            }
        }
    }

    /** Q2_K's and Q3_K's packing: per half of 128 values, value l + 32k goes to bits 2k of byte l. */
    private static void packTwoBits(byte[] levels, byte[] y, int at) {
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                y[at + j / 4 + l] = (byte) (levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4)
                        | (levels[j + l + 96] << 6));
            }
        }
    }
}
