package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KernelSourceTest {
    @TempDir
    Path dir;

    static boolean nvccPresent() {
        try {
            Process p = new ProcessBuilder("nvcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @ParameterizedTest
    @EnumSource(KernelSource.class)
    void everySourceIsHeaderFreeAndDefinesItsKernelsAsExternC(KernelSource source) {
        String text = source.text();
        assertFalse(text.contains("#include"), source.file() + " must not include headers: NVRTC has none");
        for (String kernel : source.kernels()) {
            assertTrue(text.contains("extern \"C\" __global__ void " + kernel + "("), source.file() + ": " + kernel);
        }
    }

    @ParameterizedTest
    @EnumSource(KernelSource.class)
    void everySourceCompilesToSm90CubinWithNvcc(KernelSource source) throws Exception {
        assumeTrue(nvccPresent(), "nvcc is not on the PATH: the kernels' CUDA compile check is skipped");
        Path cu = Files.writeString(dir.resolve(source.file()), source.text());
        Path cubin = dir.resolve(source.file() + ".cubin");
        Process p = new ProcessBuilder("nvcc", "-cubin", "-arch=sm_90", "-std=c++17", "-Werror", "all-warnings", "-o",
                cubin.toString(), cu.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc timed out");
        assertEquals(0, p.exitValue(), source.file() + ":\n" + log);
        String image = new String(Files.readAllBytes(cubin), StandardCharsets.ISO_8859_1);
        for (String kernel : source.kernels()) {
            assertTrue(image.contains(kernel), kernel + " is in the cubin's symbols");
        }
    }

    @Test
    void nvrtcCompilesForTheDevicesOwnArchitectureToCubin() {
        GpuDevice h100 = new GpuDevice("H100", 9, 0, 1, 1, 13000, 13000);
        List<String> options = NvrtcOptions.forDevice(h100);
        assertTrue(options.contains("--gpu-architecture=sm_90"), options.toString());
        assertTrue(NvrtcOptions.forArchitecture("sm_120a").contains("--gpu-architecture=sm_120a"));
        assertThrows(IllegalArgumentException.class, () -> NvrtcOptions.forArchitecture("compute_90"),
                "a virtual architecture would make NVRTC emit PTX, which the driver JIT-compiles at load");
    }
}
