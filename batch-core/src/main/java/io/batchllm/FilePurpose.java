package io.batchllm;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a file is for. Wire names as OpenAI spells them (F2). */
public enum FilePurpose {
    ASSISTANTS("assistants", true),
    ASSISTANTS_OUTPUT("assistants_output", false),
    BATCH("batch", true),
    BATCH_OUTPUT("batch_output", false),
    FINE_TUNE("fine-tune", true),
    FINE_TUNE_RESULTS("fine-tune-results", false),
    VISION("vision", true),
    USER_DATA("user_data", true),
    EVALS("evals", true);

    private final String wire;
    private final boolean uploadable;

    FilePurpose(String wire, boolean uploadable) {
        this.wire = wire;
        this.uploadable = uploadable;
    }

    /** The name on the wire, such as {@code batch} or {@code fine-tune}. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /** Whether a client may upload a file with this purpose (output purposes are set by the service). */
    public boolean uploadable() {
        return uploadable;
    }

    /**
     * The purpose a client asked for on upload.
     *
     * @throws InvalidRequestException (param {@code purpose}) for anything not accepted on upload
     */
    public static FilePurpose forUpload(String wire) {
        for (FilePurpose p : values()) {
            if (p.uploadable && p.wire.equals(wire)) {
                return p;
            }
        }
        throw new InvalidRequestException("purpose", "'" + wire + "' is not a valid purpose. Expected one of: "
                + "assistants, batch, fine-tune, vision, user_data, evals.");
    }

    /** Any purpose by wire name, for list filters. */
    public static FilePurpose fromWire(String wire) {
        for (FilePurpose p : values()) {
            if (p.wire.equals(wire)) {
                return p;
            }
        }
        throw new InvalidRequestException("purpose", "'" + wire + "' is not a valid purpose.");
    }
}
