package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.GpuTelemetry;
import io.batchllm.cuda.internal.KernelSource;
import io.batchllm.cuda.internal.NvrtcOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The JavaCPP layer itself on the real GPU: probe, NVRTC, copies, events, NVML. */
@Tag("gpu")
class CudaGpuTest {

    @Test
    void theProbeDescribesTheDeviceItFound() {
        GpuDevice d = RealGpu.probe().device();
        System.out.println("gpu-check device: " + d.describe());
        assertTrue(d.totalBytes() > d.freeBytes() / 2 && d.freeBytes() > 0, d.describe());
        assertTrue(d.computeMajor() >= 8, d.describe());
    }

    @Test
    void nvrtcCompilesEverySourceToCubinForTheDevicesArchitecture() {
        GpuDevice d = RealGpu.probe().device();
        for (KernelSource s : KernelSource.values()) {
            byte[] cubin = NvrtcCompiler.compile(s, NvrtcOptions.forDevice(d));
            // an ELF image, not PTX text: the driver loads it without JIT compilation
            assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'}, Arrays.copyOf(cubin, 4), s.file());
        }
    }

    @Test
    void bytesRoundTripThroughDeviceMemoryAndEventsTimeTheStream() {
        try (Gpu gpu = RealGpu.open(); Stream stream = gpu.newStream(); Arena arena = Arena.ofConfined()) {
            long n = 1 << 24;
            MemorySegment host = arena.allocate(n, 64);
            for (long i = 0; i < n; i += 4096) {
                host.set(ValueLayout.JAVA_BYTE, i, (byte) (i >> 12));
            }
            DeviceBuffer b = gpu.allocate(n);
            Event start = stream.record();
            stream.upload(host, b, 0);
            MemorySegment back = arena.allocate(n, 64);
            stream.download(b, 0, back);
            Event end = stream.record();
            end.synchronize();
            assertEquals(-1L, host.mismatch(back));
            float ms = end.millisSince(start);
            assertTrue(ms > 0, "copies take time: " + ms);
            System.out.printf("gpu-check copy: 2 x %d MiB in %.3f ms%n", n >> 20, ms);
            b.close();
        }
    }

    @Test
    void nvmlReadsTheDevicesMemoryAndTemperature() {
        RealGpu.probe();
        try (GpuTelemetry t = new NvmlTelemetry()) {
            assertTrue(t.memoryTotalBytes() > 0, "memory total");
            assertTrue(t.memoryUsedBytes() >= 0, "memory used");
            assertFalse(Double.isNaN(t.temperatureCelsius()), "temperature");
            System.out.printf("gpu-check nvml: %.0f MiB used of %.0f, %.0f%% busy, %.0f C, %.0f W%n",
                    t.memoryUsedBytes() / 1048576, t.memoryTotalBytes() / 1048576, t.utilizationPercent(),
                    t.temperatureCelsius(), t.powerWatts());
        }
    }
}
