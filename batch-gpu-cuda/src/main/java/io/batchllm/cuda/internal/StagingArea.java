package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.cuda.internal.device.PinnedBuffer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The pinned host memory of one step in flight: what its copies read (inputs, settings of new
 * sequences, appended blocks) and where its results land, handed out front to back. Asynchronous
 * copies read it when the stream reaches them, so it is reused only after that step has finished
 * ({@link #reset}, once the step's event has passed). A step that needs more than it holds gets a
 * larger buffer; the smaller one is kept until the reset, for copies queued from it may still be
 * pending. Not thread safe.
 */
final class StagingArea implements AutoCloseable {
    private static final long ALIGNMENT = 64;

    private final Gpu gpu;
    private PinnedBuffer buffer;
    private long used;
    private final List<PinnedBuffer> retired = new ArrayList<>();

    StagingArea(Gpu gpu, long initialBytes) {
        this.gpu = gpu;
        this.buffer = gpu.allocatePinned(Math.max(ALIGNMENT, initialBytes));
    }

    /** {@code bytes} of memory no copy of this step has used yet (contents undefined). */
    MemorySegment take(long bytes) {
        long at = (used + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        long size = buffer.segment().byteSize();
        if (at + bytes > size) {
            retired.add(buffer);
            buffer = gpu.allocatePinned(Math.max(2 * size, bytes + ALIGNMENT));
            at = 0;
        }
        used = at + bytes;
        return buffer.segment().asSlice(at, bytes);
    }

    /** Makes all of it free again; the step that used it must have finished. */
    void reset() {
        for (PinnedBuffer b : retired) {
            b.close();
        }
        retired.clear();
        used = 0;
    }

    @Override
    public void close() {
        reset();
        buffer.close();
    }
}
