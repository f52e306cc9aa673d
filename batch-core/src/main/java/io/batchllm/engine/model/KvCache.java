package io.batchllm.engine.model;

/**
 * An opaque handle to one sequence's key/value cache on a {@link DeviceExecutor}. Callers never see
 * its layout: today the CPU executor keeps one contiguous region per sequence; a paged executor can
 * hand out block tables behind the same handle without changing callers.
 *
 * <p>The cache holds K and V for positions {@code [0, length())}. A {@link SequenceStep} starting at
 * position {@code p} (which must be at most {@code length()}) writes positions
 * {@code [p, p + tokens)}; anything stored at or after {@code p} is replaced, so rewinding a sequence is
 * just stepping from an earlier position.
 *
 * <p>Only the executor that created a handle can use it. Not thread safe: like the executor, it is used
 * by one scheduler thread. {@link #close()} releases its memory; a closed handle is refused by
 * {@link DeviceExecutor#step}.
 */
public interface KvCache extends AutoCloseable {

    /** The most positions this cache can hold (the {@code maxTokens} it was created with). */
    int capacity();

    /** Positions stored so far: the next decode step's position, unless the caller rewinds. */
    int length();

    /** Whether {@link #close()} has been called. */
    boolean isClosed();

    /** Releases the cache's memory. Idempotent. */
    @Override
    void close();
}
