package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.Bf16;
import io.batchllm.cuda.internal.KernelSource;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the kernel contracts share: a {@link Gpu} from the subclass (the CPU emulator in every build,
 * a real GPU in the {@code gpu}-tagged run), a stream, and array helpers.
 */
abstract class GpuTestBase {
    /** bf16 keeps 8 significant bits: results rounded to bf16 may differ from the reference by one step. */
    static final float BF16_RELATIVE = 1f / 128;

    Gpu gpu;
    Stream stream;
    DeviceMemory mem;
    final Random random = new Random(12);

    abstract Gpu createGpu();

    @BeforeEach
    void open() {
        gpu = createGpu();
        stream = gpu.newStream();
        mem = new DeviceMemory(gpu, stream);
    }

    @AfterEach
    void closeGpu() {
        // null when the subclass skipped the test because it has no GPU
        if (stream != null) {
            stream.close();
        }
        if (gpu != null) {
            gpu.close();
        }
    }

    Kernel kernel(KernelSource source, String name) {
        return gpu.load(source).kernel(name);
    }

    float[] randomFloats(int n, float scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) random.nextGaussian() * scale;
        }
        return f;
    }

    static short[] toBf16(float[] f) {
        short[] s = new short[f.length];
        for (int i = 0; i < f.length; i++) {
            s[i] = Bf16.fromFloat(f[i]);
        }
        return s;
    }

    static float[] fromBf16(short[] s) {
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            f[i] = Bf16.toFloat(s[i]);
        }
        return f;
    }

    static void assertClose(float[] expected, float[] actual, float relative, float absolute, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: expected " + expected[i]
                    + " got " + actual[i]);
        }
    }

}
