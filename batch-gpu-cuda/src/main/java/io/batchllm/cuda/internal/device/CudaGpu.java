package io.batchllm.cuda.internal.device;

import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.KernelSource;
import io.batchllm.cuda.internal.NvrtcOptions;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link Gpu} over the CUDA runtime (memory, pinned memory, streams, events, graphs), the driver API
 * (module load, launch), NVRTC ({@link NvrtcCompiler}) and cuBLAS ({@link CublasBlas}), through
 * JavaCPP. Device 0, its primary context. Create it only after the probe found the device usable.
 */
public final class CudaGpu implements Gpu {
    /** Compiled kernels by source and NVRTC options (which name the architecture). */
    private static final Map<String, byte[]> CUBINS = new ConcurrentHashMap<>();
    /**
     * Whether this thread has device 0's primary context current. The driver API calls (module load,
     * launch) need one, and the engine launches from its own thread, not the one that created the
     * executor: {@code cudaSetDevice} makes it current, once per thread.
     */
    private static final ThreadLocal<Boolean> CONTEXT_CURRENT = ThreadLocal.withInitial(() -> false);

    private final GpuDevice device;

    public CudaGpu(GpuDevice device) {
        this.device = device;
        makeContextCurrent();
    }

    private static void makeContextCurrent() {
        if (!CONTEXT_CURRENT.get()) {
            Native.cuda(cudart.cudaSetDevice(0), "cudaSetDevice(0)");
            CONTEXT_CURRENT.set(true);
        }
    }

    @Override
    public GpuDevice device() {
        return device;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
        }
        Pointer p = new Pointer();
        int err = cudart.cudaMalloc(p, bytes);
        if (err != cudart.cudaSuccess) {
            long[] info = memoryInfo();
            throw new IllegalStateException("cannot allocate " + bytes + " bytes on " + device.name() + " ("
                    + (info[0] >> 20) + " MiB free): CUDA error " + err);
        }
        return new Buffer(p.address(), bytes);
    }

    @Override
    public PinnedBuffer allocatePinned(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
        }
        Pointer p = new Pointer();
        Native.cuda(cudart.cudaMallocHost(p, bytes), "cudaMallocHost(" + bytes + " bytes)");
        MemorySegment segment = MemorySegment.ofAddress(p.address()).reinterpret(bytes);
        return new PinnedBuffer() {
            @Override
            public MemorySegment segment() {
                return segment;
            }

            @Override
            public void close() {
                Native.cuda(cudart.cudaFreeHost(Native.at(segment.address())), "cudaFreeHost");
            }
        };
    }

    @Override
    public Stream newStream() {
        CUstream_st s = new CUstream_st();
        Native.cuda(cudart.cudaStreamCreateWithFlags(s, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        return new CudaStream(s);
    }

    @Override
    public KernelModule load(KernelSource source) {
        List<String> options = NvrtcOptions.forDevice(device);
        // NVRTC takes about a second a source: compile each once per JVM (every model's executor loads them)
        byte[] cubin = CUBINS.computeIfAbsent(source + " " + options, k -> NvrtcCompiler.compile(source, options));
        makeContextCurrent();
        CUmod_st module = new CUmod_st();
        try (BytePointer image = new BytePointer(cubin)) {
            Native.driver(cudart.cuModuleLoadData(module, image), "cuModuleLoadData(" + source.file() + ")");
        }
        return new Module(module, source);
    }

    @Override
    public Blas blas(Stream stream) {
        return new CublasBlas(((CudaStream) stream).handle);
    }

    @Override
    public long[] memoryInfo() {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            Native.cuda(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return new long[] {free.get(), total.get()};
        }
    }

    /** Waits for the device; buffers, streams and modules are closed by whoever created them. */
    @Override
    public void close() {
        Native.cuda(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    private record Buffer(long address, long bytes) implements DeviceBuffer {
        @Override
        public void close() {
            Native.cuda(cudart.cudaFree(Native.at(address)), "cudaFree");
        }
    }

    static final class CudaStream implements Stream {
        final CUstream_st handle;

        CudaStream(CUstream_st handle) {
            this.handle = handle;
        }

        @Override
        public void upload(MemorySegment host, DeviceBuffer dst, long dstOffset) {
            requireNative(host);
            checkRange(dst, dstOffset, host.byteSize());
            Native.cuda(cudart.cudaMemcpyAsync(Native.at(dst.address(dstOffset)), Native.at(host.address()),
                    host.byteSize(), cudart.cudaMemcpyHostToDevice, handle), "cudaMemcpyAsync(host to device)");
        }

        @Override
        public void download(DeviceBuffer src, long srcOffset, MemorySegment host) {
            requireNative(host);
            checkRange(src, srcOffset, host.byteSize());
            Native.cuda(cudart.cudaMemcpyAsync(Native.at(host.address()), Native.at(src.address(srcOffset)),
                    host.byteSize(), cudart.cudaMemcpyDeviceToHost, handle), "cudaMemcpyAsync(device to host)");
        }

        @Override
        public void zero(DeviceBuffer dst, long offset, long bytes) {
            checkRange(dst, offset, bytes);
            Native.cuda(cudart.cudaMemsetAsync(Native.at(dst.address(offset)), 0, bytes, handle), "cudaMemsetAsync");
        }

        @Override
        public Event record() {
            CUevent_st e = new CUevent_st();
            Native.cuda(cudart.cudaEventCreate(e), "cudaEventCreate");
            Native.cuda(cudart.cudaEventRecord(e, handle), "cudaEventRecord");
            return new CudaEvent(e);
        }

        @Override
        public void synchronize() {
            Native.cuda(cudart.cudaStreamSynchronize(handle), "cudaStreamSynchronize");
        }

        @Override
        public void beginCapture() {
            // thread-local mode: only this thread's unsafe calls (a cudaMalloc, say) break the capture
            Native.cuda(cudart.cudaStreamBeginCapture(handle, cudart.cudaStreamCaptureModeThreadLocal),
                    "cudaStreamBeginCapture");
        }

        @Override
        public Graph endCapture() {
            CUgraph_st graph = new CUgraph_st();
            Native.cuda(cudart.cudaStreamEndCapture(handle, graph), "cudaStreamEndCapture");
            CUgraphExec_st exec = new CUgraphExec_st();
            try {
                Native.cuda(cudart.cudaGraphInstantiate(exec, graph, 0L), "cudaGraphInstantiate");
            } catch (IllegalStateException e) {
                cudart.cudaGraphDestroy(graph);
                throw e;
            }
            return new CudaGraph(graph, exec);
        }

        @Override
        public void close() {
            Native.cuda(cudart.cudaStreamDestroy(handle), "cudaStreamDestroy");
        }
    }

    private record CudaGraph(CUgraph_st graph, CUgraphExec_st exec) implements Graph {
        @Override
        public void launch(Stream stream) {
            Native.cuda(cudart.cudaGraphLaunch(exec, ((CudaStream) stream).handle), "cudaGraphLaunch");
        }

        @Override
        public void close() {
            Native.cuda(cudart.cudaGraphExecDestroy(exec), "cudaGraphExecDestroy");
            Native.cuda(cudart.cudaGraphDestroy(graph), "cudaGraphDestroy");
        }
    }

    private record CudaEvent(CUevent_st handle) implements Event {
        @Override
        public void synchronize() {
            Native.cuda(cudart.cudaEventSynchronize(handle), "cudaEventSynchronize");
        }

        @Override
        public boolean isDone() {
            int err = cudart.cudaEventQuery(handle);
            if (err == cudart.cudaErrorNotReady) {
                return false;
            }
            Native.cuda(err, "cudaEventQuery");
            return true;
        }

        @Override
        public float millisSince(Event earlier) {
            float[] ms = new float[1];
            Native.cuda(cudart.cudaEventElapsedTime(ms, ((CudaEvent) earlier).handle, handle), "cudaEventElapsedTime");
            return ms[0];
        }

        @Override
        public void close() {
            Native.cuda(cudart.cudaEventDestroy(handle), "cudaEventDestroy");
        }
    }

    private record Module(CUmod_st handle, KernelSource source) implements KernelModule {
        @Override
        public Kernel kernel(String name) {
            if (!source.kernels().contains(name)) {
                throw new IllegalArgumentException(source.file() + " has no kernel '" + name + "'; it has "
                        + source.kernels());
            }
            CUfunc_st f = new CUfunc_st();
            Native.driver(cudart.cuModuleGetFunction(f, handle, name), "cuModuleGetFunction(" + name + ")");
            return new CudaKernel(name, f);
        }

        @Override
        public void close() {
            Native.driver(cudart.cuModuleUnload(handle), "cuModuleUnload");
        }
    }

    private static final class CudaKernel implements Kernel {
        private final String name;
        private final CUfunc_st function;
        /** Dynamic shared memory the kernel has been allowed past the default 48 KiB. */
        private int optedIn;

        CudaKernel(String name, CUfunc_st function) {
            this.name = name;
            this.function = function;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void launch(LaunchShape shape, Stream stream, KernelArgs args) {
            makeContextCurrent();
            List<KernelArgs.Arg> list = args.list();
            // cuLaunchKernel takes an array of pointers, one to each argument's value: 8 bytes a value
            // is enough for every kind, and the driver reads 4 of them for ints and floats.
            try (BytePointer values = new BytePointer(8L * Math.max(1, list.size()));
                 PointerPointer<Pointer> params = new PointerPointer<>(Math.max(1, list.size()))) {
                for (int i = 0; i < list.size(); i++) {
                    KernelArgs.Arg a = list.get(i);
                    long at = 8L * i;
                    switch (a.kind()) {
                        case I32, F32 -> values.putInt(at, (int) a.bits());
                        case POINTER, I64, F64 -> values.putLong(at, a.bits());
                    }
                    params.put(i, Native.at(values.address() + at));
                }
                if (shape.sharedBytes() > 48 * 1024 && shape.sharedBytes() > optedIn) {
                    Native.driver(cudart.cuFuncSetAttribute(function, cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            shape.sharedBytes()), "cuFuncSetAttribute(" + name + ")");
                    optedIn = shape.sharedBytes();
                }
                Native.driver(cudart.cuLaunchKernel(function, shape.gridX(), shape.gridY(), shape.gridZ(), shape.threads(),
                        1, 1, shape.sharedBytes(), ((CudaStream) stream).handle, params, null), "cuLaunchKernel(" + name + ")");
            }
        }
    }

    private static void requireNative(MemorySegment host) {
        if (!host.isNative()) {
            throw new IllegalArgumentException("copies need native (off-heap) host memory, got a heap segment");
        }
    }

    private static void checkRange(DeviceBuffer buffer, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > buffer.bytes()) {
            throw new IndexOutOfBoundsException("[" + offset + ", " + (offset + bytes) + ") is outside a buffer of "
                    + buffer.bytes() + " bytes");
        }
    }
}
