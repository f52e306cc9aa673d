package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.ProbeResult.Problem;
import org.junit.jupiter.api.Test;

class NativeFailuresTest {

    /** JavaCPP's shape: "no jniX in java.library.path", caused by the dynamic loader's message. */
    private static UnsatisfiedLinkError linkError(String jni, String loaderMessage) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("no " + jni + " in java.library.path: [/usr/lib]");
        e.initCause(new UnsatisfiedLinkError("/root/.javacpp/cache/lib" + jni + ".so: " + loaderMessage));
        return e;
    }

    @Test
    void eachMissingLibraryIsNamedWithTheProblemItCauses() {
        assertEquals(Problem.NO_DRIVER, NativeFailures.classify(linkError("jnicudart",
                "libcuda.so.1: cannot open shared object file: No such file or directory")).problem());
        assertEquals(Problem.NO_RUNTIME, NativeFailures.classify(linkError("jnicudart",
                "libcudart.so.13: cannot open shared object file: No such file or directory")).problem());
        assertEquals(Problem.NO_CUBLAS, NativeFailures.classify(linkError("jnicublas",
                "libcublasLt.so.13: cannot open shared object file: No such file or directory")).problem());
        assertEquals(Problem.NO_NVRTC, NativeFailures.classify(linkError("jninvrtc",
                "libnvrtc.so.13: cannot open shared object file: No such file or directory")).problem());
    }

    @Test
    void aJniLibraryMissingWithoutACauseIsStillAttributed() {
        assertEquals(Problem.NO_CUBLAS,
                NativeFailures.classify(new UnsatisfiedLinkError("no jnicublas in java.library.path")).problem());
        assertEquals(Problem.NO_NVRTC,
                NativeFailures.classify(new UnsatisfiedLinkError("no jninvrtc in java.library.path")).problem());
    }

    @Test
    void theReasonCarriesTheLoadersMessageAndSaysWhereToPointTheLibraryPath() {
        ProbeResult r = NativeFailures.classify(linkError("jnicublas",
                "libcublas.so.13: cannot open shared object file: No such file or directory"));
        assertTrue(r.reason().contains("libcublas.so.13: cannot open shared object file"), r.reason());
        assertTrue(r.reason().contains("LD_LIBRARY_PATH"), r.reason());
        assertTrue(r.reason().contains("docs/gpu.md"), r.reason());
    }

    @Test
    void anythingElseIsAProbeFailureWithItsMessage() {
        ProbeResult r = NativeFailures.classify(new OutOfMemoryError("Java heap space"));
        assertEquals(Problem.PROBE_FAILED, r.problem());
        assertTrue(r.reason().contains("Java heap space"), r.reason());
    }
}
