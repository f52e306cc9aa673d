package io.batchllm.cuda.internal.device;

import io.batchllm.cuda.internal.KernelSource;
import java.util.List;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/** Compiles a {@link KernelSource} to CUBIN with NVRTC; a compile error carries NVRTC's log. */
public final class NvrtcCompiler {
    private NvrtcCompiler() {
    }

    /** The CUBIN of {@code source} compiled with {@code options} (see {@link io.batchllm.cuda.internal.NvrtcOptions}). */
    public static byte[] compile(KernelSource source, List<String> options) {
        _nvrtcProgram program = new _nvrtcProgram();
        try (BytePointer text = new BytePointer(source.text()); BytePointer name = new BytePointer(source.file())) {
            Native.nvrtc(nvrtc.nvrtcCreateProgram(program, text, name, 0, (PointerPointer<?>) null,
                    (PointerPointer<?>) null), "nvrtcCreateProgram(" + source.file() + ")");
        }
        try (PointerPointer<BytePointer> opts = new PointerPointer<>(options.toArray(String[]::new))) {
            int err = nvrtc.nvrtcCompileProgram(program, options.size(), opts);
            if (err != nvrtc.NVRTC_SUCCESS) {
                throw new IllegalStateException("NVRTC cannot compile " + source.file() + " with " + options + ": "
                        + nvrtc.nvrtcGetErrorString(err).getString() + "\n" + log(program));
            }
            try (SizeTPointer size = new SizeTPointer(1)) {
                Native.nvrtc(nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
                byte[] cubin = new byte[(int) size.get()];
                Native.nvrtc(nvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
                return cubin;
            }
        } finally {
            nvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static String log(_nvrtcProgram program) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtc.nvrtcGetProgramLogSize(program, size) != nvrtc.NVRTC_SUCCESS || size.get() < 2) {
                return "";
            }
            byte[] log = new byte[(int) size.get()];
            nvrtc.nvrtcGetProgramLog(program, log);
            return new String(log, 0, log.length - 1, java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
