package io.batchllm.cuda.internal.device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Test helpers: arrays to device buffers and back, through a {@link Gpu}'s stream. */
final class DeviceMemory {
    private final Gpu gpu;
    private final Stream stream;

    DeviceMemory(Gpu gpu, Stream stream) {
        this.gpu = gpu;
        this.stream = stream;
    }

    DeviceBuffer floats(float... values) {
        return upload(MemorySegment.ofArray(values));
    }

    DeviceBuffer doubles(double... values) {
        return upload(MemorySegment.ofArray(values));
    }

    DeviceBuffer ints(int... values) {
        return upload(MemorySegment.ofArray(values));
    }

    DeviceBuffer shorts(short... values) {
        return upload(MemorySegment.ofArray(values));
    }

    DeviceBuffer bytes(byte... values) {
        return upload(MemorySegment.ofArray(values));
    }

    /** A zeroed buffer of {@code bytes} bytes. */
    DeviceBuffer zeros(long bytes) {
        DeviceBuffer b = gpu.allocate(Math.max(1, bytes));
        stream.zero(b, 0, b.bytes());
        return b;
    }

    float[] readFloats(DeviceBuffer b, int n) {
        return download(b, (long) n * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
    }

    int[] readInts(DeviceBuffer b, int n) {
        return download(b, (long) n * Integer.BYTES).toArray(ValueLayout.JAVA_INT_UNALIGNED);
    }

    short[] readShorts(DeviceBuffer b, int n) {
        return download(b, (long) n * Short.BYTES).toArray(ValueLayout.JAVA_SHORT_UNALIGNED);
    }

    private DeviceBuffer upload(MemorySegment heap) {
        DeviceBuffer b = gpu.allocate(Math.max(1, heap.byteSize()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, heap.byteSize()), 16);
            MemorySegment.copy(heap, 0, host, 0, heap.byteSize());
            stream.upload(host.asSlice(0, heap.byteSize()), b, 0);
            stream.synchronize();
        }
        return b;
    }

    private MemorySegment download(DeviceBuffer b, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, bytes), 16);
            stream.download(b, 0, host.asSlice(0, bytes));
            stream.synchronize();
            MemorySegment heap = MemorySegment.ofArray(new byte[(int) bytes]);
            MemorySegment.copy(host, 0, heap, 0, bytes);
            return heap;
        }
    }
}
