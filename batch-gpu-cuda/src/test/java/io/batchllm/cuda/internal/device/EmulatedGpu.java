package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.KernelSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Gpu} on the CPU, for tests: device memory is native memory, streams run synchronously,
 * GEMMs are {@link EmulatedBlas}'s loops, and kernels are the real kernel sources compiled as C++ by
 * {@code g++} with {@code emulator.h} in front, each block run by {@code blockDim.x} platform threads
 * meeting at a barrier for {@code __syncthreads}. Slow, but it runs every line of the kernels.
 *
 * <p>Each kernel launch checks its arguments against the kernel's C signature (count and kinds), so a
 * launcher that passes the wrong arguments fails here instead of corrupting memory on a GPU.
 */
public final class EmulatedGpu implements Gpu {
    /** The emulated device: an sm_90 with 1 GiB. */
    public static final GpuDevice DEVICE = new GpuDevice("CPU emulator", 9, 0, 1L << 30, 1L << 30, 13000, 13000);
    private static final Map<KernelSource, Path> LIBRARIES = new EnumMap<>(KernelSource.class);

    private final Arena arena = Arena.ofShared();
    private final Map<Integer, ExecutorService> pools = new HashMap<>();

    private static Boolean compilerPresent;

    /** A new emulator; the test is skipped (an assumption fails) when g++, which builds the kernels, is missing. */
    public static Gpu openOrSkip() {
        assumeTrue(available(), "g++ is not on the PATH: the kernels cannot be emulated here");
        return new EmulatedGpu();
    }

    /** Whether {@code g++} is on the PATH. */
    public static synchronized boolean available() {
        if (compilerPresent == null) {
            compilerPresent = runsGpp();
        }
        return compilerPresent;
    }

    private static boolean runsGpp() {
        try {
            Process p = new ProcessBuilder("g++", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public GpuDevice device() {
        return DEVICE;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        MemorySegment s = arena.allocate(bytes, 256);
        return new DeviceBuffer() {
            @Override
            public long address() {
                return s.address();
            }

            @Override
            public long bytes() {
                return bytes;
            }

            @Override
            public void close() {
                // freed with the emulator's arena
            }
        };
    }

    /** Device memory as a segment, for tests that look at it directly. */
    public static MemorySegment view(DeviceBuffer b) {
        return MemorySegment.ofAddress(b.address()).reinterpret(b.bytes());
    }

    @Override
    public Stream newStream() {
        return new Stream() {
            @Override
            public void upload(MemorySegment host, DeviceBuffer dst, long dstOffset) {
                MemorySegment.copy(host, 0, view(dst), dstOffset, host.byteSize());
            }

            @Override
            public void download(DeviceBuffer src, long srcOffset, MemorySegment host) {
                MemorySegment.copy(view(src), srcOffset, host, 0, host.byteSize());
            }

            @Override
            public void zero(DeviceBuffer dst, long offset, long bytes) {
                view(dst).asSlice(offset, bytes).fill((byte) 0);
            }

            @Override
            public Event record() {
                long at = System.nanoTime();
                return new Event() {
                    @Override
                    public void synchronize() {
                    }

                    @Override
                    public float millisSince(Event earlier) {
                        throw new UnsupportedOperationException("the emulator does not time kernels");
                    }

                    @Override
                    public void close() {
                    }

                    @Override
                    public String toString() {
                        return "event@" + at;
                    }
                };
            }

            @Override
            public void synchronize() {
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public KernelModule load(KernelSource source) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library(source), arena);
        Map<String, List<KernelArgs.Kind>> signatures = KernelSignatures.parse(source.source());
        Linker linker = Linker.nativeLinker();
        MethodHandle block = linker.downcallHandle(lookup.find("bllm_emu_block").orElseThrow(), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MethodHandle blockDone = linker.downcallHandle(lookup.find("bllm_emu_block_done").orElseThrow(),
                FunctionDescriptor.ofVoid());
        MethodHandle thread = linker.downcallHandle(lookup.find("bllm_emu_thread").orElseThrow(), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        return new KernelModule() {
            @Override
            public Kernel kernel(String name) {
                List<KernelArgs.Kind> signature = signatures.get(name);
                if (signature == null || !source.kernels().contains(name)) {
                    throw new IllegalArgumentException(source.file() + " has no kernel '" + name + "'");
                }
                MemoryLayout[] layouts = signature.stream().map(EmulatedGpu::layout).toArray(MemoryLayout[]::new);
                MethodHandle kernel = linker.downcallHandle(lookup.find(name).orElseThrow(),
                        FunctionDescriptor.ofVoid(layouts));
                return new EmulatedKernel(name, signature, kernel, block, blockDone, thread);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public Blas blas(Stream stream) {
        return new EmulatedBlas();
    }

    @Override
    public long[] memoryInfo() {
        return new long[] {DEVICE.freeBytes(), DEVICE.totalBytes()};
    }

    @Override
    public void close() {
        pools.values().forEach(ExecutorService::shutdownNow);
        arena.close();
    }

    private static MemoryLayout layout(KernelArgs.Kind kind) {
        return switch (kind) {
            case POINTER -> ValueLayout.ADDRESS;
            case I32 -> ValueLayout.JAVA_INT;
            case I64 -> ValueLayout.JAVA_LONG;
            case F32 -> ValueLayout.JAVA_FLOAT;
            case F64 -> ValueLayout.JAVA_DOUBLE;
        };
    }

    private static Object value(KernelArgs.Arg a) {
        return switch (a.kind()) {
            case POINTER -> MemorySegment.ofAddress(a.bits());
            case I32 -> (int) a.bits();
            case I64 -> a.bits();
            case F32 -> Float.intBitsToFloat((int) a.bits());
            case F64 -> Double.longBitsToDouble(a.bits());
        };
    }

    /** The kernel source compiled with g++ into a shared library, once per JVM. */
    private static synchronized Path library(KernelSource source) {
        Path lib = LIBRARIES.get(source);
        if (lib != null) {
            return lib;
        }
        try {
            Path dir = Files.createTempDirectory("bllm-emulator");
            Path cpp = dir.resolve(source.name().toLowerCase() + ".cpp");
            Files.writeString(cpp, shim() + "\n" + source.text());
            lib = dir.resolve(source.name().toLowerCase() + ".so");
            Process p = new ProcessBuilder("g++", "-std=c++17", "-O1", "-shared", "-fPIC", "-pthread", "-Wl,-Bsymbolic",
                    "-o", lib.toString(), cpp.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("g++ cannot build the emulated " + source.file() + ":\n" + log);
            }
            LIBRARIES.put(source, lib);
            return lib;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the emulator", e);
        }
    }

    private static String shim() throws IOException {
        try (InputStream in = EmulatedGpu.class.getResourceAsStream("/io/batchllm/cuda/emulator/emulator.h")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private ExecutorService pool(int threads) {
        return pools.computeIfAbsent(threads, n -> Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "emulated-gpu-thread");
            t.setDaemon(true);
            return t;
        }));
    }

    private final class EmulatedKernel implements Kernel {
        private final String name;
        private final List<KernelArgs.Kind> signature;
        private final MethodHandle kernel;
        private final MethodHandle block;
        private final MethodHandle blockDone;
        private final MethodHandle thread;

        EmulatedKernel(String name, List<KernelArgs.Kind> signature, MethodHandle kernel, MethodHandle block,
                       MethodHandle blockDone, MethodHandle thread) {
            this.name = name;
            this.signature = signature;
            this.kernel = kernel;
            this.block = block;
            this.blockDone = blockDone;
            this.thread = thread;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void launch(LaunchShape shape, Stream stream, KernelArgs args) {
            List<KernelArgs.Kind> kinds = args.list().stream().map(KernelArgs.Arg::kind).toList();
            if (!kinds.equals(signature)) {
                throw new IllegalArgumentException(name + " takes " + signature + " but was given " + kinds);
            }
            Object[] values = args.list().stream().map(EmulatedGpu::value).toArray();
            MemorySegment shared = arena.allocate(Math.max(8, shape.sharedBytes()), 16);
            ExecutorService pool = pool(shape.threads());
            try {
                for (int z = 0; z < shape.gridZ(); z++) {
                    for (int y = 0; y < shape.gridY(); y++) {
                        for (int x = 0; x < shape.gridX(); x++) {
                            runBlock(shape, shared, pool, values, x, y, z);
                        }
                    }
                }
            } catch (Throwable t) {
                throw new IllegalStateException("emulated " + name + " failed", t);
            }
        }

        private void runBlock(LaunchShape shape, MemorySegment shared, ExecutorService pool, Object[] values, int x,
                              int y, int z) throws Throwable {
            block.invokeExact(shape.gridX(), shape.gridY(), shape.gridZ(), shape.threads(), shared);
            List<Future<?>> threads = new ArrayList<>(shape.threads());
            for (int t = 0; t < shape.threads(); t++) {
                int tx = t;
                threads.add(pool.submit(() -> {
                    try {
                        thread.invokeExact(x, y, z, tx);
                        kernel.invokeWithArguments(values);
                    } catch (Throwable e) {
                        throw new IllegalStateException("thread " + tx + " of block (" + x + ", " + y + ", " + z + ")", e);
                    }
                    return null;
                }));
            }
            for (Future<?> f : threads) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause();
                }
            }
            blockDone.invokeExact();
        }
    }
}
