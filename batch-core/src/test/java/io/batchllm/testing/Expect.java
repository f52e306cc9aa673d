package io.batchllm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.batchllm.InvalidRequestException;
import io.batchllm.NotFoundException;
import org.junit.jupiter.api.function.Executable;

/** Assertions on the errors the public API throws, with the fields the HTTP adapter maps to the wire. */
public final class Expect {
    private Expect() {
    }

    /** A 400 {@code invalid_request_error} naming {@code param}. */
    public static InvalidRequestException badRequest(String param, Executable call) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, call);
        assertEquals(400, e.httpStatus(), e.getMessage());
        assertEquals("invalid_request_error", e.type(), e.getMessage());
        assertEquals(param, e.param(), e.getMessage());
        return e;
    }

    /** A 404 {@code invalid_request_error} with {@code param:"id"} and the given message. */
    public static NotFoundException notFound(String message, Executable call) {
        NotFoundException e = assertThrows(NotFoundException.class, call);
        assertEquals(404, e.httpStatus());
        assertEquals("invalid_request_error", e.type());
        assertEquals("id", e.param());
        assertEquals(message, e.getMessage());
        return e;
    }
}
