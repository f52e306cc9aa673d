package io.batchllm.engine.chat;

import io.batchllm.engine.chat.ChatTemplateException.Reason;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Finding a model's chat template in its GGUF metadata, and the error for models without one.
 */
public final class ChatTemplates {
    /** The GGUF metadata key that holds the chat template's Jinja source. */
    public static final String METADATA_KEY = "tokenizer.chat_template";

    /**
     * ChatML, the template llama.cpp falls back to for a model whose GGUF carries none: each message
     * as {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n}, and {@code <|im_start|>assistant\n} to prompt
     * the answer. (On a model without those tokens, such as stories260K, they are plain text.)
     */
    public static final String CHATML_FALLBACK = """
            {%- for message in messages -%}
                {{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}
                {{- '<|im_start|>assistant\n' -}}
            {%- endif -%}
            """;

    private ChatTemplates() {
    }

    /**
     * Compiles the chat template a model carries, with {@code strftime_now} reading the system
     * clock in the system time zone.
     *
     * @see #fromMetadata(Map, Clock)
     */
    public static Optional<ChatTemplate> fromMetadata(Map<String, Object> metadata) {
        return fromMetadata(metadata, Clock.systemDefaultZone());
    }

    /**
     * Compiles the chat template a model carries.
     *
     * @param metadata the model's GGUF key/value metadata
     * @param clock the clock the template's {@code strftime_now} reads, in its time zone
     * @return the compiled template; empty when {@value #METADATA_KEY} is missing or blank (refuse
     *     chat requests to such a model with {@link #noChatTemplate(String)})
     * @throws ChatTemplateException {@link Reason#SYNTAX} when the key is not a string or the
     *     template does not compile
     */
    public static Optional<ChatTemplate> fromMetadata(Map<String, Object> metadata, Clock clock) {
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(clock, "clock");
        Object value = metadata.get(METADATA_KEY);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String source)) {
            throw new ChatTemplateException(Reason.SYNTAX, "GGUF metadata '" + METADATA_KEY
                    + "' must be a string (the Jinja source), but is a " + value.getClass().getSimpleName()
                    + "; the GGUF file is malformed, re-export it");
        }
        return source.isBlank() ? Optional.empty() : Optional.of(ChatTemplate.compile(source, clock));
    }

    /** {@link #CHATML_FALLBACK}, compiled, with {@code strftime_now} reading {@code clock}. */
    public static ChatTemplate chatMlFallback(Clock clock) {
        return ChatTemplate.compile(CHATML_FALLBACK, clock);
    }

    /**
     * The error for a chat request to a model that has no chat template.
     *
     * @param modelName the model as the request named it
     * @return an exception ({@link Reason#NO_TEMPLATE}) telling the caller what to do instead
     */
    public static ChatTemplateException noChatTemplate(String modelName) {
        return new ChatTemplateException(Reason.NO_TEMPLATE, "model " + modelName
                + " has no chat template (" + METADATA_KEY + " is missing from its GGUF); send /v1/completions"
                + " requests with a prompt instead, or use a model whose GGUF carries a chat template");
    }
}
