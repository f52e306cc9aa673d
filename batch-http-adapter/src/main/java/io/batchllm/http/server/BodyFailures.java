package io.batchllm.http.server;

import io.batchllm.BatchException;
import java.io.EOFException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;

/**
 * The answer to a request body that could not be read: 408 {@code request_timeout} when it arrived
 * below the minimum data rate or stalled past the idle timeout, 400 {@code incomplete_body} when the
 * client ended it early, Jetty's own status for a malformed one (a bad chunk). Never a 500: the fault
 * is the client's.
 */
final class BodyFailures {
    private BodyFailures() {
    }

    /** A failed read of the request body; its cause says how it failed. */
    static final class ReadFailed extends IOException {
        ReadFailed(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** The error to answer when {@code failure} (or one of its causes) is a failed read of the body; else null. */
    static BatchException of(Throwable failure) {
        Throwable t = failure;
        while (t != null && !(t instanceof ReadFailed)) {
            t = t.getCause();
        }
        if (t == null) {
            return null;
        }
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) {
                return new BatchException(408, "invalid_request_error", "request_timeout", null, "The request body "
                        + "arrived too slowly (below the server's minimum data rate) or stopped arriving; send it "
                        + "again, without pauses.");
            }
            // Before HttpException: Jetty's early EOF is both.
            if (c instanceof EOFException) {
                return incomplete();
            }
            if (c instanceof HttpException h && h.getCode() >= 400 && h.getCode() < 500) {
                return new BatchException(h.getCode(), "invalid_request_error", "malformed_body", null, "The request "
                        + "body is malformed: " + h.getReason() + ".");
            }
        }
        return incomplete();
    }

    private static BatchException incomplete() {
        return new BatchException(400, "invalid_request_error", "incomplete_body", null, "The request body ended "
                + "before it was complete (the connection closed early, or it is shorter than its Content-Length).");
    }
}
