package io.batchllm;

/**
 * The root of every error BatchLLM throws to its callers. Each subclass maps to one HTTP status
 * (the HTTP adapter relies on it) and carries the OpenAI error fields {@code type}, {@code code} and
 * {@code param}.
 */
public class BatchException extends RuntimeException {
    private final int httpStatus;
    private final String type;
    private final String code;
    private final String param;

    public BatchException(int httpStatus, String type, String code, String param, String message) {
        super(message);
        this.httpStatus = httpStatus;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    public BatchException(int httpStatus, String type, String code, String param, String message, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    /** The HTTP status this error maps to. */
    public int httpStatus() {
        return httpStatus;
    }

    /** OpenAI's error {@code type}, such as {@code invalid_request_error}. */
    public String type() {
        return type;
    }

    /** A machine-readable code, or null. */
    public String code() {
        return code;
    }

    /** The request parameter at fault, or null. */
    public String param() {
        return param;
    }
}
