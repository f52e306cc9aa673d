package io.batchllm;

import com.fasterxml.jackson.annotation.JsonValue;

/** The eight batch statuses (B7) and their lifecycle (section 7 of the conformance sheet). */
public enum BatchStatus {
    VALIDATING, FAILED, IN_PROGRESS, FINALIZING, COMPLETED, EXPIRED, CANCELLING, CANCELLED;

    /** The wire name, such as {@code in_progress}. */
    @JsonValue
    public String wire() {
        return name().toLowerCase();
    }

    /** completed, failed, expired and cancelled: nothing changes after these. */
    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == EXPIRED || this == CANCELLED;
    }

    public static BatchStatus fromWire(String s) {
        return valueOf(s.toUpperCase());
    }
}
