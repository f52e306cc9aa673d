package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.ProbeResult.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns what loading the CUDA libraries threw into a {@link ProbeResult} that says which library is
 * missing and how to provide it. JavaCPP reports a missing dependency of its JNI library as an
 * {@link UnsatisfiedLinkError} "no jnicudart in java.library.path" whose cause names the real culprit
 * ("libcuda.so.1: cannot open shared object file"), so the whole cause chain is searched, the
 * dependency names first.
 */
public final class NativeFailures {
    /** Where to point the loader, repeated in every "library missing" reason. */
    static final String LIBRARY_PATH_HINT = "put the directory holding it on LD_LIBRARY_PATH (the CUDA 13 toolkit's "
            + "lib64, or the lib directory of the matching nvidia-* Python wheel; see docs/gpu.md)";

    private NativeFailures() {
    }

    /** The result for a probe that threw {@code failure}. */
    public static ProbeResult classify(Throwable failure) {
        List<String> messages = messages(failure);
        String detail = firstLine(failure);
        if (mentions(messages, "libcuda.so")) {
            return ProbeResult.missing(Problem.NO_DRIVER, "no NVIDIA driver: libcuda.so.1 cannot be loaded (" + detail
                    + "); install the NVIDIA driver, or run on a machine with an NVIDIA GPU");
        }
        if (mentions(messages, "libcudart.so")) {
            return ProbeResult.missing(Problem.NO_RUNTIME, "the CUDA runtime libcudart.so.13 cannot be loaded ("
                    + detail + "); " + LIBRARY_PATH_HINT);
        }
        if (mentions(messages, "libcublas")) {
            return ProbeResult.missing(Problem.NO_CUBLAS, "cuBLAS (libcublas.so.13, libcublasLt.so.13) cannot be "
                    + "loaded (" + detail + "); " + LIBRARY_PATH_HINT);
        }
        if (mentions(messages, "libnvrtc")) {
            return ProbeResult.missing(Problem.NO_NVRTC, "NVRTC (libnvrtc.so.13) cannot be loaded (" + detail + "); "
                    + LIBRARY_PATH_HINT);
        }
        if (mentions(messages, "jnicublas")) {
            return ProbeResult.missing(Problem.NO_CUBLAS, "cuBLAS cannot be loaded (" + detail + "); " + LIBRARY_PATH_HINT);
        }
        if (mentions(messages, "jninvrtc")) {
            return ProbeResult.missing(Problem.NO_NVRTC, "NVRTC cannot be loaded (" + detail + "); " + LIBRARY_PATH_HINT);
        }
        if (mentions(messages, "jnicudart")) {
            // the loader's own message, which would say which of the two, went with the first attempt
            return ProbeResult.missing(Problem.NO_RUNTIME, "the CUDA runtime (libcudart.so.13) or the NVIDIA driver "
                    + "(libcuda.so.1) cannot be loaded (" + detail + "); " + LIBRARY_PATH_HINT);
        }
        return ProbeResult.missing(Problem.PROBE_FAILED, "probing for CUDA failed: " + detail);
    }

    private static List<String> messages(Throwable t) {
        List<String> out = new ArrayList<>();
        for (Throwable c = t; c != null && out.size() < 16; c = c.getCause()) {
            out.add(String.valueOf(c.getMessage()));
        }
        return out;
    }

    private static boolean mentions(List<String> messages, String name) {
        return messages.stream().anyMatch(m -> m.contains(name));
    }

    /**
     * The deepest cause's message, on one line: the loader's own words ("libjnicudart.so: libcuda.so.1:
     * cannot open shared object file"), with the extraction directory cut from the JNI library's path.
     */
    private static String firstLine(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = root.getMessage() == null ? root.toString() : root.getMessage();
        int so = text.indexOf(".so: ");
        if (text.startsWith("/") && so > 0) {
            text = text.substring(text.lastIndexOf('/', so) + 1);
        }
        return (root instanceof LinkageError || root.getMessage() == null ? text : root.getClass().getSimpleName()
                + ": " + text).replace('\n', ' ');
    }
}
