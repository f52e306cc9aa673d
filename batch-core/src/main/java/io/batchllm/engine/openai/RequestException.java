package io.batchllm.engine.openai;

import io.batchllm.spi.InferenceResult;

/**
 * A request body that cannot be served as sent: becomes a 400 {@code invalid_request_error}.
 * Unchecked, so the parser and the engine can throw it from anywhere on the request's path.
 */
public class RequestException extends RuntimeException {
    private final String param;
    private final String code;

    /**
     * @param param the request field at fault, as OpenAI names it ({@code temperature},
     *     {@code messages[2].content}), or null when the body as a whole is wrong
     * @param code a machine-readable code such as {@code invalid_type} or {@code unsupported_parameter}
     * @param message what is wrong and what is allowed instead
     */
    public RequestException(String param, String code, String message) {
        super(message);
        this.param = param;
        this.code = code;
    }

    /** The field at fault, or null. */
    public String param() {
        return param;
    }

    /** The machine-readable error code. */
    public String code() {
        return code;
    }

    /** This error as the 400 result the batch's error file carries. */
    public InferenceResult toResult() {
        return InferenceResult.invalidRequest(param, code, getMessage());
    }

    /**
     * OpenAI's error for a prompt plus requested completion that do not fit the model's context.
     *
     * @param param {@code messages} or {@code prompt}
     * @param contextLength the model's context length in tokens
     * @param promptTokens the prompt's length after templating and tokenization
     * @param maxTokens the requested completion length, or null when none was requested
     */
    public static RequestException contextLengthExceeded(String param, int contextLength, int promptTokens,
            Integer maxTokens) {
        String requested = maxTokens == null ? "" : " (" + promptTokens + " in the " + param + ", "
                + maxTokens + " in the completion)";
        // a long: max_tokens may be as large as Integer.MAX_VALUE
        long total = (long) promptTokens + (maxTokens == null ? 0 : maxTokens);
        return new RequestException(param, "context_length_exceeded",
                "This model's maximum context length is " + contextLength + " tokens. However, you requested "
                        + total + " tokens" + requested + ". Please reduce the length of the " + param
                        + " or the completion (max_tokens / max_completion_tokens).");
    }
}
