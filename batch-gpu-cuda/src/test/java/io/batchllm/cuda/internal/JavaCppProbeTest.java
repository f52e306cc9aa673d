package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.batchllm.cuda.internal.ProbeResult.Problem;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import org.junit.jupiter.api.Test;

/** The real probe, on this machine: without a driver it must say so, never throw, and stay cached. */
class JavaCppProbeTest {

    /** Whether the dynamic loader finds the NVIDIA driver, asked independently of JavaCPP. */
    static boolean driverLoadable() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void withoutTheDriverTheProbeReportsNoDriverNamingLibcuda() {
        assumeFalse(driverLoadable(), "libcuda.so.1 loads on this machine: this test is for machines without a driver");
        ProbeResult r = JavaCppProbe.SHARED.result();

        assertEquals(Problem.NO_DRIVER, r.problem(), r.reason());
        assertTrue(r.reason().contains("libcuda.so.1: cannot open shared object file"), r.reason());
        assertSame(r, JavaCppProbe.SHARED.result(), "probed once, kept");
    }

    @Test
    void aSecondProbeAfterTheFailedLoadFailsCleanlyButOnlyTheSharedOneKnowsWhy() {
        assumeFalse(driverLoadable(), "libcuda.so.1 loads on this machine: this test is for machines without a driver");
        JavaCppProbe.SHARED.result();

        ProbeResult again = new LazyProbe(new JavaCppProbe()).result();

        assertEquals(Problem.NO_RUNTIME, again.problem(), again.reason());
        assertTrue(again.reason().contains("no jnicudart"), again.reason());
        assertEquals(Problem.NO_DRIVER, JavaCppProbe.SHARED.result().problem());
    }
}
