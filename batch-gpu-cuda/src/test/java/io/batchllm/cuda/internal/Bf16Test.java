package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Bf16Test {

    @Test
    void roundsToNearestWithTiesToEven() {
        // 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7: the tie goes to the even 1.0
        assertEquals(1.0f, Bf16.round(1f + 0x1p-8f));
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6
        assertEquals(1f + 0x1p-6f, Bf16.round(1f + 3 * 0x1p-8f));
        assertEquals(1f + 0x1p-7f, Bf16.round(1f + 0x1p-7f + 0x1p-10f), "below halfway rounds down");
        assertEquals((short) 0x3f80, Bf16.fromFloat(1f));
        assertEquals((short) 0xc000, Bf16.fromFloat(-2f));
    }

    @Test
    void keepsInfinitiesAndMakesNanQuiet() {
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.MAX_VALUE), "rounds up past the largest bf16");
        short nan = Bf16.fromFloat(Float.intBitsToFloat(0x7f800001));
        assertTrue(Float.isNaN(Bf16.toFloat(nan)), "a signalling NaN whose payload is in the low bits stays NaN");
    }

    @Test
    void everyBf16ValueRoundTripsExactly() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Bf16.toFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Bf16.fromFloat(f), Integer.toHexString(bits));
            }
        }
    }
}
