package io.batchllm.http.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Errors Jetty answers itself, before or instead of any handler (headers too large, a malformed
 * request line or header, {@code PRI} for HTTP/2 prior knowledge, a handler that threw an
 * {@code Error}): the same OpenAI error envelope as everything else (C4), with an
 * {@code x-request-id} (C7) and {@code x-should-retry: false} where a retry would fail alike.
 *
 * <p>Jetty's own handler writes a body only for GET, POST and HEAD; a malformed {@code DELETE},
 * {@code PUT} or {@code OPTIONS} got an empty 400. This one answers every method alike (and no body
 * where HTTP allows none: HEAD, 1xx, 204, 304).
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int code = response.getStatus();
        String message = (String) request.getAttribute(ERROR_MESSAGE);
        if (request.getAttribute(ERROR_EXCEPTION) instanceof HttpException e) {
            code = e.getCode();
            response.setStatus(code);
            message = e.getReason();
        }
        if (!response.getHeaders().contains(Exchange.REQUEST_ID)) {
            response.getHeaders().put(Exchange.REQUEST_ID, Exchange.newRequestId());
        }
        response.getHeaders().put(ERROR_CACHE_CONTROL);
        if (Exchange.deterministic(code)) {
            response.getHeaders().put(Exchange.SHOULD_RETRY, "false");
        }
        if (HttpStatus.hasNoBody(code) || "HEAD".equals(request.getMethod())) {
            callback.succeeded();
            return true;
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body(code, message, response.getHeaders().get(Exchange.REQUEST_ID))),
                callback);
        return true;
    }

    private static byte[] body(int status, String message, String requestId) {
        String text;
        if (status >= 500) {
            // Whatever went wrong is the server's; its detail (an exception's text) stays in the log.
            text = "The server failed to handle the request (" + HttpStatus.getMessage(status) + "); request id "
                    + requestId + ".";
        } else if (status == HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431) {
            text = "The request headers are too large; send fewer or shorter headers.";
        } else if (status == HttpStatus.UPGRADE_REQUIRED_426) {
            text = "HTTP/2 is not served here; send HTTP/1.1 requests.";
        } else {
            text = message != null && !message.isBlank() ? message : HttpStatus.getMessage(status);
        }
        return Json.errorEnvelope(text, status >= 500 ? "server_error" : "invalid_request_error", null,
                "http_" + status).getBytes(StandardCharsets.UTF_8);
    }
}
