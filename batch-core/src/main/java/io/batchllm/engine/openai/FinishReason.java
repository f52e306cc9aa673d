package io.batchllm.engine.openai;

/** Why a choice ended, as OpenAI's {@code finish_reason} names it. */
public enum FinishReason {
    /** The model produced an end-of-sequence token or a stop string matched. */
    STOP("stop"),
    /** {@code max_tokens} or the context length was reached. */
    LENGTH("length"),
    /** The model called tools: the choice's message carries {@code tool_calls}. */
    TOOL_CALLS("tool_calls");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    /** The JSON value: {@code stop}, {@code length} or {@code tool_calls}. */
    public String wireName() {
        return wireName;
    }
}
