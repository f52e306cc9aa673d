package io.batchllm;

import java.util.List;

/**
 * The disk BatchLLM writes to is full (or over its quota); 507. Nothing of the refused operation is
 * kept, and the service recovers by itself once there is room again: no restart is needed.
 */
public class InsufficientStorageException extends BatchException {
    /** What operating systems say when a write finds no room (Linux and macOS, Windows, quotas). */
    private static final List<String> FULL_DISK_MESSAGES = List.of("No space left on device",
            "There is not enough space on the disk", "Disk quota exceeded");

    public InsufficientStorageException(String what, Throwable cause) {
        super(507, "server_error", "insufficient_storage", null, what + ": the disk is full ("
                + java.util.Objects.requireNonNullElse(fullDiskMessage(cause), "no room left") + "). Free space on the server's disk; the service goes on by itself "
                + "once there is room.", cause);
    }

    /** Whether {@code failure}, or one of its causes, is a write that found the disk full. */
    public static boolean isFullDisk(Throwable failure) {
        return fullDiskMessage(failure) != null;
    }

    private static String fullDiskMessage(Throwable failure) {
        // Identity set: some drivers' exceptions refer to each other in a cycle.
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            String m = t.getMessage();
            if (m != null) {
                for (String full : FULL_DISK_MESSAGES) {
                    if (m.contains(full)) {
                        return full;
                    }
                }
            }
        }
        return null;
    }
}
