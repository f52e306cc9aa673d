package io.batchllm.cuda.internal.device;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A kernel's arguments, in the order of its C signature: device pointers (as addresses; 0 is the
 * null pointer) and scalars of the C types {@code int}, {@code long long}, {@code float} and
 * {@code double}. Passing the wrong kind for a parameter is undefined behaviour on the device, so
 * each kernel's arguments should be built in one place; the tests' emulator checks every launch
 * against the kernel's C signature.
 */
public final class KernelArgs {

    /** The C type of one argument. */
    public enum Kind {
        /** A device pointer (8 bytes). */
        POINTER,
        /** {@code int}. */
        I32,
        /** {@code long long} / {@code unsigned long long}. */
        I64,
        /** {@code float}. */
        F32,
        /** {@code double}. */
        F64
    }

    /** One argument: its kind and its bits (a pointer's address, an int, a float's raw bits, …). */
    public record Arg(Kind kind, long bits) {
    }

    private final List<Arg> args = new ArrayList<>();

    /** An empty argument list. */
    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** A pointer to the start of {@code buffer}. */
    public KernelArgs pointer(DeviceBuffer buffer) {
        return add(Kind.POINTER, buffer.address());
    }

    /** A pointer {@code offset} bytes into {@code buffer}. */
    public KernelArgs pointer(DeviceBuffer buffer, long offset) {
        return add(Kind.POINTER, buffer.address(offset));
    }

    /** A pointer to a device address (inside a buffer: a weight region, say). */
    public KernelArgs address(long address) {
        return add(Kind.POINTER, address);
    }

    /** The null pointer (the kernels take it for "none", e.g. no bias). */
    public KernelArgs nullPointer() {
        return add(Kind.POINTER, 0);
    }

    public KernelArgs i32(int value) {
        return add(Kind.I32, value);
    }

    public KernelArgs i64(long value) {
        return add(Kind.I64, value);
    }

    public KernelArgs f32(float value) {
        return add(Kind.F32, Float.floatToRawIntBits(value));
    }

    public KernelArgs f64(double value) {
        return add(Kind.F64, Double.doubleToRawLongBits(value));
    }

    /** The arguments, in order. */
    public List<Arg> list() {
        return Collections.unmodifiableList(args);
    }

    private KernelArgs add(Kind kind, long bits) {
        args.add(new Arg(kind, bits));
        return this;
    }
}
