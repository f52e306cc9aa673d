package io.batchllm;

/** The request is wrong (a bad parameter, a bad file); 400. Retrying the same request will not help. */
public class InvalidRequestException extends BatchException {
    public InvalidRequestException(String param, String message) {
        super(400, "invalid_request_error", null, param, message);
    }

    public InvalidRequestException(String param, String code, String message) {
        super(400, "invalid_request_error", code, param, message);
    }
}
