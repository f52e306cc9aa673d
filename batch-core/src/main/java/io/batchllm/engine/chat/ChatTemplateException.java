package io.batchllm.engine.chat;

import java.util.Objects;

/**
 * A chat template could not be compiled or rendered, or the model has none.
 *
 * <p>Unchecked, like every BatchLLM error. {@link #reason()} tells callers (the HTTP adapter, the
 * engine) whose fault it is: {@link Reason#REJECTED_BY_TEMPLATE} and {@link Reason#NO_TEMPLATE} are
 * caused by the request (the conversation or the endpoint chosen), the others by the model's template
 * (or, for {@link Reason#RENDER_FAILED}, a conversation missing what the template reads).
 */
public final class ChatTemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the template failed. */
    public enum Reason {
        /** The template source does not parse as Jinja. */
        SYNTAX,
        /**
         * The template itself refused the conversation by calling {@code raise_exception(msg)}
         * (for example "Conversation roles must alternate user/assistant/..."); the message is the
         * template's own.
         */
        REJECTED_BY_TEMPLATE,
        /**
         * Rendering failed for another reason, with jinja2's message: an undefined value used, a
         * type error ({@code can only concatenate str (not "NoneType") to str}), ...
         */
        RENDER_FAILED,
        /**
         * Rendering went past its bounds (steps, output size, allocation, nesting): the template
         * loops or grows without end. Only that request fails.
         */
        LIMIT_EXCEEDED,
        /** The model carries no chat template at all. */
        NO_TEMPLATE
    }

    private final Reason reason;

    /**
     * @param reason why the template failed
     * @param message what is wrong and how to fix it
     */
    public ChatTemplateException(Reason reason, String message) {
        this(reason, message, null);
    }

    /**
     * @param reason why the template failed
     * @param message what is wrong and how to fix it
     * @param cause the underlying error, or {@code null}
     */
    public ChatTemplateException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return why the template failed */
    public Reason reason() {
        return reason;
    }
}
