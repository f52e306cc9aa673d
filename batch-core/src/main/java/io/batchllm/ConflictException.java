package io.batchllm;

/** The object is in a state that does not allow the operation (cancelling a finished batch); 409. */
public class ConflictException extends BatchException {
    public ConflictException(String message) {
        super(409, "invalid_request_error", null, null, message);
    }
}
