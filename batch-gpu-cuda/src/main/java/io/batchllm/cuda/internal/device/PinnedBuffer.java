package io.batchllm.cuda.internal.device;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory from {@link Gpu#allocatePinned}: the source and target of asynchronous
 * copies. It must outlive every copy queued from or into it. Closing frees it; not thread safe.
 */
public interface PinnedBuffer extends AutoCloseable {

    /** The memory, as a segment of the buffer's size. */
    MemorySegment segment();

    @Override
    void close();
}
