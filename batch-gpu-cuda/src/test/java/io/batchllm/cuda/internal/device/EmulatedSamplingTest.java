package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.batchllm.cuda.internal.KernelSource;
import io.batchllm.cuda.internal.SamplingSlotsLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The sampling contract on the CPU emulator, and the kernels' struct layout as a C++ compiler lays it out. */
class EmulatedSamplingTest extends SamplingContract {

    @Override
    Gpu createGpu() {
        return EmulatedGpu.openOrSkip();
    }

    @Test
    void samplingSlotsWritesEveryFieldAtTheOffsetTheCompilerGivesIt() throws Throwable {
        var layout = Linker.nativeLinker().downcallHandle(EmulatedGpu.symbol(KernelSource.SAMPLING,
                "sampling_params_layout"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(8L * 17, 8);
            layout.invokeExact(out);
            assertArrayEquals(SamplingSlotsLayout.expected(), out.toArray(ValueLayout.JAVA_LONG));
        }
    }
}
