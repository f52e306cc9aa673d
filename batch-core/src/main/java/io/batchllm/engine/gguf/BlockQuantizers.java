package io.batchllm.engine.gguf;

/**
 * llama.cpp's reference quantizers for the 32-value block types with a minimum or a fifth bit:
 * {@code quantize_row_q4_1_ref}, {@code _q5_0_ref} and {@code _q5_1_ref} (what {@code llama-quantize}
 * writes for them without an importance matrix), in {@code float} and in the C code's order.
 * Stateless and thread safe.
 */
final class BlockQuantizers {
    private BlockQuantizers() {
    }

    static void quantize(GgmlType type, float[] x, int xOff, int n, byte[] y, int yOff) {
        for (int b = 0; b < n / 32; b++) {
            int xo = xOff + 32 * b;
            int yo = yOff + type.blockBytes() * b;
            switch (type) {
                case Q4_1 -> q4_1Block(x, xo, y, yo);
                case Q5_0 -> q5_0Block(x, xo, y, yo);
                case Q5_1 -> q5_1Block(x, xo, y, yo);
                default -> throw new IllegalArgumentException(type + " is not a 32-value block type with a minimum");
            }
        }
    }

    /** {@code quantize_row_q4_1_ref}: 16 levels from the block's minimum to its maximum. */
    private static void q4_1Block(float[] x, int xo, byte[] y, int yo) {
        float[] range = minMax(x, xo);
        float min = range[0];
        float d = (range[1] - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Quantizer.putShort(y, yo, Float.floatToFloat16(d));
        Quantizer.putShort(y, yo + 2, Float.floatToFloat16(min));
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(15, Quantizer.truncToInt8((x[xo + j] - min) * id + 0.5f));
            int xi1 = Math.min(15, Quantizer.truncToInt8((x[xo + 16 + j] - min) * id + 0.5f));
            y[yo + 4 + j] = (byte) (xi0 | (xi1 << 4));
        }
    }

    /** {@code quantize_row_q5_0_ref}: as Q4_0 with 32 levels, the largest magnitude mapping to −16. */
    private static void q5_0Block(float[] x, int xo, byte[] y, int yo) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Quantizer.putShort(y, yo, Float.floatToFloat16(d));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int xi0 = Math.min(31, Quantizer.truncToInt8(x[xo + j] * id + 16.5f));
            int xi1 = Math.min(31, Quantizer.truncToInt8(x[xo + 16 + j] * id + 16.5f));
            y[yo + 6 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >> 4) << j;
            qh |= ((xi1 & 0x10) >> 4) << (j + 16);
        }
        Quantizer.putInt(y, yo + 2, qh);
    }

    /** {@code quantize_row_q5_1_ref}: 32 levels from the block's minimum to its maximum. */
    private static void q5_1Block(float[] x, int xo, byte[] y, int yo) {
        float[] range = minMax(x, xo);
        float min = range[0];
        float d = (range[1] - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Quantizer.putShort(y, yo, Float.floatToFloat16(d));
        Quantizer.putShort(y, yo + 2, Float.floatToFloat16(min));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // C's (uint8_t) of the float: truncation (the value is in 0..31.5, so no clamp is needed)
            int xi0 = (int) ((x[xo + j] - min) * id + 0.5f) & 0xFF;
            int xi1 = (int) ((x[xo + 16 + j] - min) * id + 0.5f) & 0xFF;
            y[yo + 8 + j] = (byte) ((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10) >> 4) << j;
            qh |= ((xi1 & 0x10) >> 4) << (j + 16);
        }
        Quantizer.putInt(y, yo + 4, qh);
    }

    /** The block's minimum and maximum, starting from ±{@code FLT_MAX} as the C code does. */
    private static float[] minMax(float[] x, int xo) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        return new float[] {min, max};
    }
}
