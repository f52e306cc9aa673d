package io.batchllm.cuda.internal.device;

/**
 * A region of device memory. Kernels and GEMMs take its {@link #address()} (plus an offset); the
 * host reaches it only through a {@link Stream}'s copies. Closing frees it; not thread safe.
 */
public interface DeviceBuffer extends AutoCloseable {

    /** The device address of the first byte. */
    long address();

    /** Its size in bytes. */
    long bytes();

    /** The device address {@code offset} bytes in, checked against the size. */
    default long address(long offset) {
        if (offset < 0 || offset > bytes()) {
            throw new IndexOutOfBoundsException("offset " + offset + " is outside a buffer of " + bytes() + " bytes");
        }
        return address() + offset;
    }

    @Override
    void close();
}
