package io.batchllm.cuda.internal;

/**
 * bfloat16 conversions on the host, bit-identical to the kernels' {@code float_to_bf16} and
 * {@code bf16_to_float} (prelude.cuh): round to nearest even, NaN kept quiet.
 */
public final class Bf16 {
    private Bf16() {
    }

    /** The bf16 bits nearest to {@code f} (ties to even). */
    public static short fromFloat(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 0x40);
        }
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    /** The float with these bf16 bits. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** {@code f} rounded to bf16 and back. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
