package io.batchllm.store;

import io.batchllm.BatchException;

/** The job store failed (the database is unreachable, a statement failed); 500. */
public class StoreException extends BatchException {
    public StoreException(String message, Throwable cause) {
        super(500, "server_error", "store_error", null, message, cause);
    }
}
