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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Gpu} on the CPU, for tests: device memory is native memory (counted against the emulated
 * device's size), each stream runs its work in order on a thread of its own, asynchronously to the
 * caller as a GPU does, GEMMs are {@link EmulatedBlas}'s loops, and kernels are the real kernel sources
 * compiled as C++ by {@code g++} with {@code emulator.h} in front, the threads of a block running as
 * fibers. Capture records a stream's launches into a graph that replays them. Slow next to a GPU, but
 * it runs every line of the kernels and the executor's whole stream discipline.
 *
 * <p>Each kernel launch checks its arguments against the kernel's C signature (count and kinds), so a
 * launcher that passes the wrong arguments fails here instead of corrupting memory on a GPU. Copies
 * check that host memory is native and ranges fit, as {@link CudaGpu} does. Freeing memory waits for
 * every stream first (as {@code cudaFree} does), so a buffer is never freed under a queued kernel.
 */
public final class EmulatedGpu implements Gpu {
    /** The emulated device's memory, by default: 1 GiB. */
    public static final long DEFAULT_BYTES = 1L << 30;
    private static final Map<KernelSource, SymbolLookup> LIBRARIES = new EnumMap<>(KernelSource.class);
    /** Kernels' __shared__ arrays are static in the emulator: one launch at a time in the process. */
    private static final Object LAUNCH_LOCK = new Object();
    private static Boolean compilerPresent;

    private final GpuDevice device;
    private final List<EmulatedStream> streams = new CopyOnWriteArrayList<>();
    private long allocated;

    /** An emulated sm_90 of {@code totalBytes}. */
    public EmulatedGpu(long totalBytes) {
        this.device = new GpuDevice("CPU emulator", 9, 0, totalBytes, totalBytes, 13000, 13000);
    }

    /** A new emulator of {@link #DEFAULT_BYTES}; the test is skipped when g++, which builds the kernels, is missing. */
    public static EmulatedGpu openOrSkip() {
        assumeTrue(available(), "g++ is not on the PATH: the kernels cannot be emulated here");
        return new EmulatedGpu(DEFAULT_BYTES);
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
        return device;
    }

    @Override
    public synchronized DeviceBuffer allocate(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
        }
        if (allocated + bytes > device.totalBytes()) {
            throw new IllegalStateException("cannot allocate " + bytes + " bytes on " + device.name() + " ("
                    + ((device.totalBytes() - allocated) >> 20) + " MiB free)");
        }
        allocated += bytes;
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(bytes, 256);
        return new DeviceBuffer() {
            private boolean closed;

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
                if (!closed) {
                    closed = true;
                    synchronizeAll();
                    arena.close();
                    release(bytes);
                }
            }
        };
    }

    private synchronized void release(long bytes) {
        allocated -= bytes;
    }

    @Override
    public PinnedBuffer allocatePinned(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
        }
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(bytes, 64);
        return new PinnedBuffer() {
            @Override
            public MemorySegment segment() {
                return s;
            }

            @Override
            public void close() {
                synchronizeAll();
                arena.close();
            }
        };
    }

    private void synchronizeAll() {
        for (EmulatedStream s : streams) {
            s.drain();
        }
    }

    /** Device memory as a segment, for tests that look at it directly (after synchronizing). */
    public static MemorySegment view(DeviceBuffer b) {
        return MemorySegment.ofAddress(b.address()).reinterpret(b.bytes());
    }

    @Override
    public Stream newStream() {
        EmulatedStream s = new EmulatedStream();
        streams.add(s);
        return s;
    }

    @Override
    public KernelModule load(KernelSource source) {
        SymbolLookup lookup = library(source);
        Map<String, List<KernelArgs.Kind>> signatures = KernelSignatures.parse(source.source());
        return new KernelModule() {
            @Override
            public Kernel kernel(String name) {
                List<KernelArgs.Kind> signature = signatures.get(name);
                if (signature == null || !source.kernels().contains(name)) {
                    throw new IllegalArgumentException(source.file() + " has no kernel '" + name + "'");
                }
                MethodHandle launcher = Linker.nativeLinker().downcallHandle(
                        lookup.find("bllm_launch_" + name).orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                return new EmulatedKernel(name, signature, launcher);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public Blas blas(Stream stream) {
        return new EmulatedBlas((EmulatedStream) stream);
    }

    @Override
    public synchronized long[] memoryInfo() {
        return new long[] {device.totalBytes() - allocated, device.totalBytes()};
    }

    /** Bytes of device memory allocated and not freed. */
    public synchronized long allocatedBytes() {
        return allocated;
    }

    @Override
    public void close() {
        synchronizeAll();
    }

    /** The kernel source and its launchers compiled with g++ into a shared library, once per JVM. */
    private static synchronized SymbolLookup library(KernelSource source) {
        SymbolLookup lookup = LIBRARIES.get(source);
        if (lookup != null) {
            return lookup;
        }
        try {
            Path dir = Files.createTempDirectory("bllm-emulator");
            Path cpp = dir.resolve(source.name().toLowerCase() + ".cpp");
            StringBuilder text = new StringBuilder(shim()).append('\n').append(source.text()).append('\n');
            for (String kernel : source.kernels()) {
                text.append("BLLM_LAUNCHER(").append(kernel).append(")\n");
            }
            Files.writeString(cpp, text);
            Path lib = dir.resolve(source.name().toLowerCase() + ".so");
            Process p = new ProcessBuilder("g++", "-std=c++17", "-O2", "-shared", "-fPIC", "-Wl,-Bsymbolic", "-o",
                    lib.toString(), cpp.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("g++ cannot build the emulated " + source.file() + ":\n" + log);
            }
            lookup = SymbolLookup.libraryLookup(lib, Arena.global());
            LIBRARIES.put(source, lookup);
            return lookup;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the emulator", e);
        }
    }

    /** A symbol of the emulated build of {@code source}, for tests of what the kernels' host code sees. */
    static MemorySegment symbol(KernelSource source, String name) {
        return library(source).find(name).orElseThrow(() -> new IllegalArgumentException(source.file()
                + " has no symbol " + name + " in the emulator"));
    }

    private static String shim() throws IOException {
        try (InputStream in = EmulatedGpu.class.getResourceAsStream("/io/batchllm/cuda/emulator/emulator.h")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * A stream: its work runs in order on one thread of its own. The first failure is kept and thrown
     * by every later wait (CUDA's errors are sticky too), and the work after it is skipped.
     */
    static final class EmulatedStream implements Stream {
        private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "emulated-gpu-stream");
            t.setDaemon(true);
            return t;
        });
        private volatile Throwable failure;
        private List<Runnable> capture;
        private boolean closed;

        /** Queues {@code op}, or records it when capturing. */
        void submit(Runnable op) {
            if (closed) {
                throw new IllegalStateException("the stream is closed");
            }
            if (capture != null) {
                capture.add(op);
                return;
            }
            worker.execute(() -> {
                if (failure == null) {
                    try {
                        op.run();
                    } catch (Throwable t) {
                        failure = t;
                    }
                }
            });
        }

        private void copy(Runnable op) {
            if (capture != null) {
                throw new IllegalStateException("copies are not captured: issue them outside the capture");
            }
            submit(op);
        }

        @Override
        public void upload(MemorySegment host, DeviceBuffer dst, long dstOffset) {
            MemorySegment from = dma(host);
            checkRange(dst, dstOffset, host.byteSize());
            copy(() -> MemorySegment.copy(from, 0, view(dst), dstOffset, from.byteSize()));
        }

        @Override
        public void download(DeviceBuffer src, long srcOffset, MemorySegment host) {
            MemorySegment to = dma(host);
            checkRange(src, srcOffset, host.byteSize());
            copy(() -> MemorySegment.copy(view(src), srcOffset, to, 0, to.byteSize()));
        }

        @Override
        public void zero(DeviceBuffer dst, long offset, long bytes) {
            checkRange(dst, offset, bytes);
            copy(() -> view(dst).asSlice(offset, bytes).fill((byte) 0));
        }

        @Override
        public Event record() {
            if (capture != null) {
                throw new IllegalStateException("no events while capturing");
            }
            CompletableFuture<Void> passed = new CompletableFuture<>();
            worker.execute(() -> passed.complete(null));
            return new Event() {
                @Override
                public void synchronize() {
                    passed.join();
                    rethrow();
                }

                @Override
                public boolean isDone() {
                    return passed.isDone();
                }

                @Override
                public float millisSince(Event earlier) {
                    throw new UnsupportedOperationException("the emulator does not time kernels");
                }

                @Override
                public void close() {
                }
            };
        }

        private void rethrow() {
            Throwable t = failure;
            if (t != null) {
                throw new IllegalStateException("the emulated stream failed: " + t.getMessage(), t);
            }
        }

        /** Waits for the queue without throwing (for frees, which must not run under queued work). */
        void drain() {
            if (!closed) {
                CompletableFuture<Void> passed = new CompletableFuture<>();
                worker.execute(() -> passed.complete(null));
                passed.join();
            }
        }

        @Override
        public void synchronize() {
            if (capture != null) {
                throw new IllegalStateException("cannot wait for a stream that is capturing");
            }
            drain();
            rethrow();
        }

        @Override
        public void beginCapture() {
            if (capture != null) {
                throw new IllegalStateException("the stream is capturing already");
            }
            capture = new ArrayList<>();
        }

        @Override
        public Graph endCapture() {
            if (capture == null) {
                throw new IllegalStateException("the stream is not capturing");
            }
            List<Runnable> ops = List.copyOf(capture);
            capture = null;
            return new Graph() {
                @Override
                public void launch(Stream stream) {
                    for (Runnable op : ops) {
                        ((EmulatedStream) stream).submit(op);
                    }
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void close() {
            if (!closed) {
                drain();
                closed = true;
                worker.shutdown();
            }
        }
    }

    /**
     * The host memory of a copy as the device's DMA engine sees it: native memory at an address,
     * reachable from the stream's thread whichever arena owns it. It is read when the copy runs, not
     * when it is queued, so a caller that reuses its memory too early is caught.
     */
    private static MemorySegment dma(MemorySegment host) {
        if (!host.isNative()) {
            throw new IllegalArgumentException("copies need native (off-heap) host memory, got a heap segment");
        }
        return MemorySegment.ofAddress(host.address()).reinterpret(host.byteSize());
    }

    private static void checkRange(DeviceBuffer buffer, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > buffer.bytes()) {
            throw new IndexOutOfBoundsException("[" + offset + ", " + (offset + bytes) + ") is outside a buffer of "
                    + buffer.bytes() + " bytes");
        }
    }

    private static final class EmulatedKernel implements Kernel {
        private final String name;
        private final List<KernelArgs.Kind> signature;
        private final MethodHandle launcher;

        EmulatedKernel(String name, List<KernelArgs.Kind> signature, MethodHandle launcher) {
            this.name = name;
            this.signature = signature;
            this.launcher = launcher;
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
            long[] bits = args.list().stream().mapToLong(KernelArgs.Arg::bits).toArray();
            ((EmulatedStream) stream).submit(() -> run(shape, bits));
        }

        /** Each argument in an 8-byte slot (little-endian: an int or float is read from its first 4 bytes). */
        private void run(LaunchShape shape, long[] bits) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment values = arena.allocate(8L * Math.max(1, bits.length), 8);
                MemorySegment pointers = arena.allocate(8L * Math.max(1, bits.length), 8);
                for (int i = 0; i < bits.length; i++) {
                    values.setAtIndex(ValueLayout.JAVA_LONG, i, bits[i]);
                    pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i));
                }
                MemorySegment shared = arena.allocate(Math.max(8, shape.sharedBytes()), 16);
                int rc;
                synchronized (LAUNCH_LOCK) {
                    rc = (int) launcher.invokeExact(shape.gridX(), shape.gridY(), shape.gridZ(), shape.threads(), shared,
                            pointers);
                }
                if (rc != 0) {
                    throw new IllegalStateException("emulated " + name + " trapped (a kernel assertion failed)");
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("emulated " + name + " failed", t);
            }
        }
    }
}
