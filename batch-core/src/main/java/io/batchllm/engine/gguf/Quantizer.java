package io.batchllm.engine.gguf;

/**
 * Encodes F32 rows into ggml's storage formats, following llama.cpp's reference quantizers in
 * {@code ggml-quants.c} ({@code quantize_row_*_ref}): the deterministic ones used when no importance
 * matrix is given. The arithmetic is done in {@code float}, in the same order as the C code, so
 * the blocks come out as llama.cpp would write them (up to the compiler's FMA contraction).
 *
 * <p>Block layouts (all little-endian, {@code f16} is IEEE half precision):
 * <ul>
 *   <li>Q8_0, 32 values in 34 bytes: {@code f16 d; int8 q[32]}; x = d·q.
 *   <li>Q4_0, 32 values in 18 bytes: {@code f16 d; u8 qs[16]}; low nibble of byte j is value j, high
 *       nibble is value j+16; x = d·(nibble − 8).
 *   <li>Q4_K, 256 values in 144 bytes: {@code f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}; eight
 *       sub-blocks of 32 with a 6-bit scale and 6-bit min each, packed as {@link #packScaleMin} says;
 *       x = d·scale·q − dmin·min.
 *   <li>Q6_K, 256 values in 210 bytes: {@code u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d};
 *       sixteen sub-blocks of 16 with an 8-bit signed scale; x = d·scale·(q − 32).
 * </ul>
 * The other types' quantizers live in {@link BlockQuantizers} (Q4_1, Q5_0, Q5_1), {@link KQuantizers}
 * (Q2_K, Q3_K, Q5_K) and {@link NonLinearQuantizers} (IQ4_NL, IQ4_XS); the layouts of all of them are
 * described in {@code io.batchllm.engine.tensor.Dequantize}.
 *
 * <p>Stateless and thread safe.
 */
final class Quantizer {
    /** llama.cpp's threshold below which a group counts as all zeros. */
    private static final float GROUP_MAX_EPS = 1e-15f;

    private Quantizer() {
    }

    /** Encodes {@code n} values of {@code x} from {@code xOff} as {@code type} into {@code y} from {@code yOff}. */
    static void quantize(GgmlType type, float[] x, int xOff, int n, byte[] y, int yOff) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException(n + " values are not a whole number of " + type + " blocks of "
                    + type.blockSize());
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    putInt(y, yOff + 4 * i, Float.floatToRawIntBits(x[xOff + i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    putShort(y, yOff + 2 * i, Float.floatToFloat16(x[xOff + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    putShort(y, yOff + 2 * i, toBf16(x[xOff + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q8_0Block(x, xOff + 32 * b, y, yOff + 34 * b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4_0Block(x, xOff + 32 * b, y, yOff + 18 * b);
                }
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q4KBlock(x, xOff + 256 * b, y, yOff + 144 * b);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q6KBlock(x, xOff + 256 * b, y, yOff + 210 * b);
                }
            }
            case Q4_1, Q5_0, Q5_1 -> BlockQuantizers.quantize(type, x, xOff, n, y, yOff);
            case Q2_K, Q3_K, Q5_K -> KQuantizers.quantize(type, x, xOff, n, y, yOff);
            case IQ4_NL, IQ4_XS -> NonLinearQuantizers.quantize(type, x, xOff, n, y, yOff);
        }
    }

    /**
     * F32 to BF16 as ggml's {@code ggml_compute_fp32_to_bf16} does: round to nearest even, and keep a
     * NaN a (quiet) NaN instead of letting the rounding carry turn it into infinity.
     */
    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** {@code quantize_row_q8_0_ref} for one block. */
    private static void q8_0Block(float[] x, int xo, byte[] y, int yo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, yo, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            y[yo + 2 + j] = (byte) roundf(x[xo + j] * id);
        }
    }

    /** {@code quantize_row_q4_0_ref} for one block: the value of largest magnitude maps to −8 exactly. */
    private static void q4_0Block(float[] x, int xo, byte[] y, int yo) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, yo, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(15, truncToInt8(x[xo + j] * id + 8.5f));
            int xi1 = Math.min(15, truncToInt8(x[xo + 16 + j] * id + 8.5f));
            y[yo + 2 + j] = (byte) (xi0 | (xi1 << 4));
        }
    }

    /** {@code quantize_row_q4_K_ref} for one super-block of 256. */
    private static void q4KBlock(float[] x, int xo, byte[] y, int yo) {
        byte[] levels = new byte[256];
        fitScalesAndMins(x, xo, 15, -1.f, 20, y, yo, levels);
        int q = yo + 16;
        for (int j = 0; j < 256; j += 64) {
            for (int l = 0; l < 32; l++) {
                y[q + l] = (byte) (levels[j + l] | (levels[j + l + 32] << 4));
            }
            q += 32;
        }
    }

    /**
     * The part Q4_K's and Q5_K's reference quantizers share: per sub-block of 32, the
     * {@code make_qkx2_quants} fit of levels 0..{@code nmax} weighted by {@code rms + |x|} (with
     * {@code rmin} and {@code nstep} as each calls it); the scales and mins quantized to 6 bits of the
     * super-block's largest and packed, with the f16 {@code d} and {@code dmin}, into
     * {@code y[yo .. yo+16)}; then every value re-quantized into {@code levels} against the rounded
     * scales the decoder will actually use.
     */
    static void fitScalesAndMins(float[] x, int xo, int nmax, float rmin, int nstep, byte[] y, int yo,
                                 byte[] levels) {
        byte[] aux = new byte[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] theMin = new float[1];

        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
            }
            scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, weights, levels, 32 * j, theMin, aux,
                    rmin, 0.1f, nstep, false);
            mins[j] = theMin[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }

        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            packScaleMin(packed, j, ls, lm);
        }
        short dBits = Float.floatToFloat16(maxScale / 63.f);
        short dminBits = Float.floatToFloat16(maxMin / 63.f);
        putShort(y, yo, dBits);
        putShort(y, yo + 2, dminBits);
        System.arraycopy(packed, 0, y, yo + 4, 12);

        float d16 = Float.float16ToFloat(dBits);
        float dmin16 = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 8; j++) {
            float d = d16 * scaleK4(packed, j);
            if (d == 0) {
                continue;
            }
            float dm = dmin16 * minK4(packed, j);
            for (int ii = 0; ii < 32; ii++) {
                int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                levels[32 * j + ii] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /**
     * Packs sub-block {@code j}'s 6-bit scale and min into the 12 scale bytes of a Q4_K block:
     * sub-blocks 0..3 keep scale and min in the low 6 bits of bytes j and j+4; sub-blocks 4..7 put
     * their low 4 bits in byte j+4 (scale low nibble, min high nibble) and their top 2 bits in the
     * spare top bits of bytes j−4 (scale) and j (min).
     */
    static void packScaleMin(byte[] s, int j, int scale, int min) {
        if (j < 4) {
            s[j] = (byte) scale;
            s[j + 4] = (byte) min;
        } else {
            s[j + 4] = (byte) ((scale & 0xF) | ((min & 0xF) << 4));
            s[j - 4] |= (byte) ((scale >> 4) << 6);
            s[j] |= (byte) ((min >> 4) << 6);
        }
    }

    /** ggml's {@code get_scale_min_k4}, scale part. */
    static int scaleK4(byte[] s, int j) {
        return j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | (((s[j - 4] & 0xFF) >> 6) << 4);
    }

    /** ggml's {@code get_scale_min_k4}, min part. */
    static int minK4(byte[] s, int j) {
        return j < 4 ? s[j + 4] & 63 : ((s[j + 4] & 0xFF) >> 4) | (((s[j] & 0xFF) >> 6) << 4);
    }

    /**
     * ggml's {@code make_qkx2_quants}: fits {@code x ≈ scale·L − min} with L in [0, nmax] by trying
     * nstep+1 scales around nmax/(max−min) and keeping the weighted least-squares fit with the smallest
     * weighted error: squared, or absolute with {@code useMad} (Q2_K). Returns the scale; writes the
     * (positive) min to {@code theMin[0]}.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, byte[] levels,
                                int lo, float[] theMin, byte[] aux, float rmin, float rdelta,
                                int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            min = Math.min(min, x[xo + i]);
            max = Math.max(max, x[xo + i]);
            float w = weights[i];
            sumW += w;
            sumX += w * x[xo + i];
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
            levels[lo + i] = (byte) l;
            float diff = scale * l + min - x[xo + i];
            bestError += weights[i] * (useMad ? Math.abs(diff) : diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                aux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xo + i];
                    curError += weights[i] * (useMad ? Math.abs(diff) : diff * diff);
                }
                if (curError < bestError) {
                    System.arraycopy(aux, 0, levels, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /** {@code quantize_row_q6_K_ref} for one super-block of 256. */
    private static void q6KBlock(float[] x, int xo, byte[] y, int yo) {
        byte[] levels = new byte[256];
        float[] scales = new float[16];
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQxQuants(16, 32, x, xo + 16 * ib, levels, 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            java.util.Arrays.fill(y, yo, yo + 210, (byte) 0);
            return;
        }
        float iscale = -128.f / maxScale;
        short dBits = Float.floatToFloat16(1 / iscale);
        putShort(y, yo + 208, dBits);
        byte[] sc = new byte[16];
        for (int ib = 0; ib < 16; ib++) {
            sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        }
        System.arraycopy(sc, 0, y, yo + 192, 16);

        float d16 = Float.float16ToFloat(dBits);
        for (int j = 0; j < 16; j++) {
            float d = d16 * sc[j];
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = Math.max(-32, Math.min(31, nearestInt(x[xo + 16 * j + ii] / d)));
                levels[16 * j + ii] = (byte) (l + 32);
            }
        }
        int ql = yo;
        int qh = yo + 128;
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                int q1 = levels[j + l] & 0xF;
                int q2 = levels[j + l + 32] & 0xF;
                int q3 = levels[j + l + 64] & 0xF;
                int q4 = levels[j + l + 96] & 0xF;
                y[ql + l] = (byte) (q1 | (q3 << 4));
                y[ql + l + 32] = (byte) (q2 | (q4 << 4));
                y[qh + l] = (byte) ((levels[j + l] >> 4) | ((levels[j + l + 32] >> 4) << 2)
                        | ((levels[j + l + 64] >> 4) << 4) | ((levels[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }

    /**
     * ggml's {@code make_qx_quants} with {@code rmse_type = 1} and no importance weights (weights are
     * x²), as Q6_K's reference quantizer calls it: a signed scale with L in [−nmax, nmax−1], refined
     * over 18 nearby scales. Returns the scale; {@code levels} get L + nmax.
     */
    private static float makeQxQuants(int n, int nmax, float[] x, int xo, byte[] levels, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
            levels[lo + i] = (byte) (l + nmax);
            float w = x[xo + i] * x[xo + i];
            sumLX += w * x[xo + i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                float w = x[xo + i] * x[xo + i];
                sumLX += w * x[xo + i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                    levels[lo + i] = (byte) (l + nmax);
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /**
     * ggml's {@code nearest_int}: adds 1.5·2²³ in float so the FPU rounds to nearest, ties to even,
     * which is exactly {@link Math#rint}.
     */
    static int nearestInt(float f) {
        return (int) Math.rint(f);
    }

    /** C's {@code roundf}: halfway cases away from zero (unlike {@link Math#round}, which rounds them up). */
    static int roundf(float f) {
        // In double, |f| + 0.5 is exact for every float, so there is no double rounding at .49999997.
        double r = Math.floor(Math.abs((double) f) + 0.5);
        return (int) Math.copySign(r, f);
    }

    /** C's {@code (int8_t)} of a float: truncation toward zero, then wrap to 8 bits. */
    static int truncToInt8(float f) {
        return (byte) (int) f;
    }

    static void putShort(byte[] b, int off, short v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
        b[off + 2] = (byte) (v >> 16);
        b[off + 3] = (byte) (v >> 24);
    }
}
