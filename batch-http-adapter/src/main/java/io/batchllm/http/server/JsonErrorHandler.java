package io.batchllm.http.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Errors Jetty answers itself, before any handler runs (headers too large, a malformed request line,
 * a body arriving too slowly): the same OpenAI error envelope as everything else (C4), with an
 * {@code x-request-id} (C7) and {@code x-should-retry: false}.
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(Exchange.REQUEST_ID, Exchange.newRequestId());
        response.getHeaders().put(Exchange.SHOULD_RETRY, "false");
        response.write(true, ByteBuffer.wrap(body(code, message)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        fields.put(Exchange.REQUEST_ID, Exchange.newRequestId());
        fields.put(Exchange.SHOULD_RETRY, "false");
        return ByteBuffer.wrap(body(status, reason));
    }

    private static byte[] body(int status, String message) {
        String text = message != null && !message.isBlank() ? message : HttpStatus.getMessage(status);
        if (status == HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431) {
            text = "The request headers are too large (" + text + "); send fewer or shorter headers.";
        }
        return Json.errorEnvelope(text, status >= 500 ? "server_error" : "invalid_request_error", null,
                "http_" + status).getBytes(StandardCharsets.UTF_8);
    }
}
