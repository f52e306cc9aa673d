package io.batchllm.engine.chat.jinja;

/** Python's {@code None}. */
enum PyNone {
    NONE
}
