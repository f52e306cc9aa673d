package io.batchllm.cuda.internal.device;

import java.lang.foreign.MemorySegment;

/**
 * An ordered queue of device work: copies, kernel launches and GEMMs run in the order they were
 * issued, asynchronously to the host. The host memory of a copy must stay valid until the stream has
 * passed it ({@link #synchronize()} or an {@link Event}). Not thread safe.
 */
public interface Stream extends AutoCloseable {

    /** Copies all of {@code host} to {@code dst} at {@code dstOffset}. */
    void upload(MemorySegment host, DeviceBuffer dst, long dstOffset);

    /** Copies {@code host.byteSize()} bytes from {@code src} at {@code srcOffset} into {@code host}. */
    void download(DeviceBuffer src, long srcOffset, MemorySegment host);

    /** Sets {@code bytes} bytes of {@code dst} from {@code offset} to zero. */
    void zero(DeviceBuffer dst, long offset, long bytes);

    /** Records an event at this point of the stream. */
    Event record();

    /** Waits until everything issued so far has run. */
    void synchronize();

    @Override
    void close();
}
