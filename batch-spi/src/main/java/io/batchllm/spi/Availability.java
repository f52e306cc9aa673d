package io.batchllm.spi;

import java.util.Objects;

/**
 * Whether a backend can run on this machine, and if not, why not.
 *
 * @param available true if {@link InferenceBackendProvider#create} can succeed here
 * @param reason why it is unavailable (what is missing and how to get it), or a short description
 *     of what it will use when it is available
 */
public record Availability(boolean available, String reason) {
    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    public static Availability available(String description) {
        return new Availability(true, description);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
