package io.batchllm.engine.gguf;

import java.util.Arrays;

/**
 * llama.cpp's quantizers for the non-linear 4-bit types IQ4_NL and IQ4_XS, as {@code quantize_iq4_nl}
 * and {@code quantize_iq4_xs} run without an importance matrix (what {@code llama-quantize} writes;
 * note that ggml's {@code quantize_row_iq4_nl_ref} searches fewer scales): each 32-value block picks
 * the scale, among 15 tried, that best fits its values (weighted by x²) onto the table of 16 levels.
 * In {@code float} and in the C code's order. Stateless and thread safe.
 */
final class NonLinearQuantizers {
    /** ggml's {@code kvalues_iq4nl}, the levels both types index. */
    private static final int[] LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** Scales tried on either side of the first guess ({@code ntry} in ggml). */
    private static final int TRIES = 7;

    private NonLinearQuantizers() {
    }

    static void quantize(GgmlType type, float[] x, int xOff, int n, byte[] y, int yOff) {
        int superBlock = type == GgmlType.IQ4_XS ? 256 : 32;
        for (int b = 0; b < n / superBlock; b++) {
            superBlock(superBlock, x, xOff + superBlock * b, y, yOff + type.blockBytes() * b);
        }
    }

    /**
     * ggml's {@code quantize_row_iq4_nl_impl} for one IQ4_NL block (32 values: f16 scale, 16 bytes) or
     * one IQ4_XS super-block (256 values: f16 scale, u16 and 4 bytes of 6-bit sub-block scales,
     * 128 bytes).
     */
    private static void superBlock(int size, float[] x, int xo, byte[] y, int yo) {
        int blocks = size / 32;
        int[] levels = new int[size];
        float[] scales = new float[blocks];
        float maxScale = 0;
        float amaxScale = 0;
        for (int ib = 0; ib < blocks; ib++) {
            scales[ib] = blockScale(x, xo + 32 * ib, levels, 32 * ib);
            float absD = Math.abs(scales[ib]);
            if (absD > amaxScale) {
                amaxScale = absD;
                maxScale = scales[ib];
            }
        }
        int qs;
        if (blocks > 1) {
            // IQ4_XS: the sub-block scales become 6-bit multiples of d = −max/32, and the values are
            // re-indexed against the rounded scales.
            float d = -maxScale / 32;
            Quantizer.putShort(y, yo, Float.floatToFloat16(d));
            float id = d != 0 ? 1 / d : 0.f;
            int scalesH = 0;
            Arrays.fill(y, yo + 4, yo + 8, (byte) 0);
            for (int ib = 0; ib < blocks; ib++) {
                int l = Math.max(-32, Math.min(31, Quantizer.nearestInt(id * scales[ib])));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < 32; j++) {
                    levels[32 * ib + j] = bestIndex(idl * x[xo + 32 * ib + j]);
                }
                l += 32;
                y[yo + 4 + ib / 2] |= (byte) ((l & 0xF) << (4 * (ib % 2)));
                scalesH |= (l >> 4) << (2 * ib);
            }
            Quantizer.putShort(y, yo + 2, (short) scalesH);
            qs = yo + 8;
        } else {
            Quantizer.putShort(y, yo, Float.floatToFloat16(scales[0]));
            float id = scales[0] != 0 ? 1 / scales[0] : 0;
            for (int j = 0; j < 32; j++) {
                levels[j] = bestIndex(id * x[xo + j]);
            }
            qs = yo + 2;
        }
        for (int i = 0; i < size / 32; i++) {
            for (int j = 0; j < 16; j++) {
                y[qs + 16 * i + j] = (byte) (levels[32 * i + j] | (levels[32 * i + 16 + j] << 4));
            }
        }
    }

    /** One block's scale: the x²-weighted least-squares fit, refined over {@code 2·TRIES + 1} guesses. */
    private static float blockScale(float[] x, int xo, int[] levels, int lo) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float ax = Math.abs(x[xo + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + j];
            }
        }
        if (amax < 1e-15f) {
            return 0;
        }
        float d = -max / LEVELS[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < 32; j++) {
            float xj = x[xo + j];
            int l = bestIndex(id * xj);
            levels[lo + j] = l;
            float q = LEVELS[l];
            float w = xj * xj;
            sumqx += w * q * xj;
            sumq2 += w * q * q;
        }
        d = sumqx / sumq2;
        float best = d * sumqx;
        for (int itry = -TRIES; itry <= TRIES; itry++) {
            id = (itry + LEVELS[0]) / max;
            sumqx = 0;
            sumq2 = 0;
            for (int j = 0; j < 32; j++) {
                float xj = x[xo + j];
                float q = LEVELS[bestIndex(id * xj)];
                float w = xj * xj;
                sumqx += w * q * xj;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /** ggml's {@code best_index_int8}: the index of the level nearest {@code v} (the upper one on a tie). */
    private static int bestIndex(float v) {
        if (v <= LEVELS[0]) {
            return 0;
        }
        if (v >= LEVELS[15]) {
            return 15;
        }
        int lo = 0;
        int hi = 15;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (v < LEVELS[mid]) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return v - LEVELS[hi - 1] < LEVELS[hi] - v ? hi - 1 : hi;
    }
}
