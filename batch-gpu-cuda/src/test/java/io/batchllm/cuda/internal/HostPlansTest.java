package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.device.DataType;
import io.batchllm.cuda.internal.device.GemmCall;
import io.batchllm.engine.model.Architecture;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.RopeScaling;
import io.batchllm.engine.model.RopeType;
import io.batchllm.engine.model.SlidingWindow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** KV cache sizing, CUDA graph sizes, the cuBLAS call shape and the NVML gauges: host logic, no GPU. */
class HostPlansTest {
    /** Llama-3.2-1B's shape. */
    static final ModelConfig LLAMA_1B = new ModelConfig(Architecture.LLAMA, 131072, 2048, 16, 8192, 32,
            8, 64, 128256, 1e-5f, RopeType.NORM, 64, 500000f, RopeScaling.NONE, 0f, 0f, SlidingWindow.NONE, 500000f);

    @Test
    void aTokenOfLlama1bTakes32KibOfBf16KeysAndValues() {
        assertEquals(32 * 1024, KvCacheSizing.bytesPerToken(LLAMA_1B));
    }

    @Test
    void theCacheTakesTheFractionOfFreeMemoryLessTheReserveInWholeBlocks() {
        KvCacheSizing sizing = new KvCacheSizing(0.5, 1L << 30);
        long free = 80L << 30;
        KvLayout layout = sizing.layout(LLAMA_1B, 16, free, 0);
        long budget = (40L << 30) - (1L << 30);
        assertEquals(budget / (32 * 1024 * 16), layout.blockCount());
        assertEquals(16, layout.blockSize());
        assertEquals(4, sizing.layout(LLAMA_1B, 16, free, 64).blockCount(), "capped by what the sequences can use");
    }

    @Test
    void aCacheThatDoesNotFitOneBlockSaysWhatToChange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvCacheSizing.DEFAULTS.layout(LLAMA_1B, 16, 100L << 20, 0));
        assertTrue(e.getMessage().contains("gpu_memory_fraction"), e.getMessage());
    }

    @Test
    void theMemoryFractionOptionIsRangeCheckedByName() {
        assertEquals(0.75, KvCacheSizing.fromOption("0.75").fraction());
        assertEquals(KvCacheSizing.DEFAULT_FRACTION, KvCacheSizing.fromOption(null).fraction());
        for (String bad : new String[] {"0", "1.5", "lots", "NaN"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.fromOption(bad));
            assertTrue(e.getMessage().contains("gpu_memory_fraction"), e.getMessage());
        }
    }

    @Test
    void graphSizesAreOneTwoFourThenMultiplesOfEightAndBatchesPadUp() {
        GraphBatchSizes g = GraphBatchSizes.upTo(30);
        assertArrayEquals(new int[] {1, 2, 4, 8, 16, 24, 32}, g.sizes());
        assertEquals(OptionalInt.of(4), g.padded(3));
        assertEquals(OptionalInt.of(8), g.padded(5));
        assertEquals(OptionalInt.of(32), g.padded(30));
        assertEquals(OptionalInt.empty(), g.padded(33), "larger batches run eagerly");
        assertArrayEquals(new int[] {1}, GraphBatchSizes.upTo(1).sizes());
        assertArrayEquals(new int[] {1, 2, 4}, GraphBatchSizes.upTo(3).sizes());
    }

    @Test
    void aLinearLayerIsTheTnCallWithLeadingDimensionsFromTheRowLengths() {
        GemmCall qkv = GemmCall.linear(3072, 2048, 64, DataType.F32, false);
        assertTrue(qkv.transA());
        assertTrue(!qkv.transB());
        assertEquals(3072, qkv.m());
        assertEquals(64, qkv.n());
        assertEquals(2048, qkv.k());
        assertEquals(2048, qkv.lda());
        assertEquals(2048, qkv.ldb());
        assertEquals(3072, qkv.ldc());
        assertEquals(0f, qkv.beta());
        assertEquals(1f, GemmCall.linear(2048, 8192, 64, DataType.F32, true).beta(), "down projection adds the residual");
        assertEquals(3072L * 2048 * 2, qkv.aBytes());
        assertTrue(qkv.tensorCoreAligned());
        assertTrue(!GemmCall.linear(2048, 2050, 1, DataType.F32, false).tensorCoreAligned());
    }

    @Test
    void gaugesReadTheTelemetryAtEachScrape() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        double[] used = {1e9};
        GpuTelemetry t = new GpuTelemetry() {
            public double memoryUsedBytes() { return used[0]; }
            public double memoryTotalBytes() { return 8e10; }
            public double utilizationPercent() { return 93; }
            public double temperatureCelsius() { return 61; }
            public double powerWatts() { return Double.NaN; }
        };
        GpuGauges.bind(registry, t, "NVIDIA H100");
        assertEquals(1e9, registry.get("batchllm.gpu.memory.used").tag("device", "NVIDIA H100").gauge().value());
        used[0] = 2e9;
        assertEquals(2e9, registry.get("batchllm.gpu.memory.used").gauge().value());
        assertEquals(8e10, registry.get("batchllm.gpu.memory.total").gauge().value());
        assertEquals(93, registry.get("batchllm.gpu.utilization").gauge().value());
        assertEquals(61, registry.get("batchllm.gpu.temperature").gauge().value());
        assertTrue(Double.isNaN(registry.get("batchllm.gpu.power").gauge().value()));
        assertEquals("bytes", registry.get("batchllm.gpu.memory.used").gauge().getId().getBaseUnit());
    }
}
