package io.batchllm;

/** The service has been closed; 503. */
public class ServiceClosedException extends BatchException {
    public ServiceClosedException() {
        super(503, "server_error", "service_closed", null, "the BatchService is closed");
    }
}
