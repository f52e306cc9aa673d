package io.batchllm.engine.openai;

/** Why a choice ended, as OpenAI's {@code finish_reason} names it. */
public enum FinishReason {
    /** The model produced an end-of-sequence token or a stop string matched. */
    STOP("stop"),
    /** {@code max_tokens} or the context length was reached. */
    LENGTH("length");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    /** The JSON value: {@code stop} or {@code length}. */
    public String wireName() {
        return wireName;
    }
}
