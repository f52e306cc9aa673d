package io.batchllm.cuda.internal.device;

/** A point in a {@link Stream}: the host can wait for it, and time what ran between two of them. */
public interface Event extends AutoCloseable {

    /** Waits until the stream has passed this event; a failure of the work before it is thrown here. */
    void synchronize();

    /** Whether the stream has passed this event (without waiting). */
    boolean isDone();

    /** Milliseconds of device time from {@code earlier} to this event (both must have completed). */
    float millisSince(Event earlier);

    @Override
    void close();
}
