package io.batchllm.cuda.internal.device;

import java.lang.foreign.MemorySegment;

/**
 * An ordered queue of device work: copies, kernel launches and GEMMs run in the order they were
 * issued, asynchronously to the host. The host memory of a copy must stay valid, and unchanged, until
 * the stream has passed it ({@link #synchronize()} or an {@link Event}). A failure on the device
 * surfaces at the next wait. Not thread safe.
 *
 * <p><b>Capture.</b> Between {@link #beginCapture()} and {@link #endCapture()} the work issued to the
 * stream (kernel launches, GEMMs) is recorded into a {@link Graph} instead of run; the graph then
 * replays it with the same arguments (the same device addresses: only the memory they point to may
 * change between replays). Copies and waits are not allowed while capturing.
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

    /** Starts recording the stream's work into a graph instead of running it. */
    void beginCapture();

    /**
     * Stops recording and returns the graph of what was issued since {@link #beginCapture()}, ready to
     * launch.
     *
     * @throws IllegalStateException if the stream was not capturing, or the capture failed
     */
    Graph endCapture();

    @Override
    void close();
}
