package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.Gpu;
import java.util.ArrayList;
import java.util.List;

/** Device buffers allocated together and freed together, the last first. Not thread safe. */
final class DeviceAllocations implements AutoCloseable {
    private final Gpu gpu;
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    DeviceAllocations(Gpu gpu) {
        this.gpu = gpu;
    }

    /** A new buffer of {@code bytes} (at least 1), freed with the others. */
    DeviceBuffer allocate(long bytes) {
        DeviceBuffer b = gpu.allocate(Math.max(1, bytes));
        buffers.add(b);
        return b;
    }

    @Override
    public void close() {
        for (int i = buffers.size() - 1; i >= 0; i--) {
            buffers.get(i).close();
        }
        buffers.clear();
    }
}
