package io.batchllm;

/** An upload exceeds its size limit; 413. Nothing of it is kept. */
public class PayloadTooLargeException extends BatchException {
    public PayloadTooLargeException(String param, String message) {
        super(413, "invalid_request_error", "file_too_large", param, message);
    }
}
