package io.batchllm;

import com.fasterxml.jackson.annotation.JsonValue;

/** Sort order of a file list by creation time. */
public enum ListOrder {
    ASC, DESC;

    @JsonValue
    public String wire() {
        return name().toLowerCase();
    }

    /** {@code asc} or {@code desc}; anything else is a 400 naming {@code order}. */
    public static ListOrder fromWire(String s) {
        return switch (s) {
            case "asc" -> ASC;
            case "desc" -> DESC;
            default -> throw new InvalidRequestException("order", "order must be 'asc' or 'desc', got '" + s + "'");
        };
    }
}
