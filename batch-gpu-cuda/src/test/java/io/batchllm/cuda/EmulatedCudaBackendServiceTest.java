package io.batchllm.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.GpuTelemetry;
import io.batchllm.cuda.internal.LazyProbe;
import io.batchllm.cuda.internal.ProbeResult;
import io.batchllm.cuda.internal.device.EmulatedGpu;
import java.time.Clock;

/** The CUDA backend through the batch service, its GPU emulated on the CPU and its telemetry fixed. */
class EmulatedCudaBackendServiceTest extends CudaBackendServiceContract {

    @Override
    CudaBackendProvider provider() {
        assumeTrue(EmulatedGpu.available(), "g++ is not on the PATH: the kernels cannot be emulated here");
        EmulatedGpu sample = new EmulatedGpu(EmulatedGpu.DEFAULT_BYTES);
        return new CudaBackendProvider(new LazyProbe(() -> ProbeResult.found(sample.device())),
                device -> new EmulatedGpu(EmulatedGpu.DEFAULT_BYTES), FixedTelemetry::new, Clock.systemUTC());
    }

    @Override
    String deviceName() {
        return "CPU emulator";
    }

    /** Readings of a GPU that never changes. */
    private static final class FixedTelemetry implements GpuTelemetry {
        @Override
        public double memoryUsedBytes() {
            return 1 << 20;
        }

        @Override
        public double memoryTotalBytes() {
            return EmulatedGpu.DEFAULT_BYTES;
        }

        @Override
        public double utilizationPercent() {
            return 50;
        }

        @Override
        public double temperatureCelsius() {
            return 40;
        }

        @Override
        public double powerWatts() {
            return 100;
        }
    }
}
