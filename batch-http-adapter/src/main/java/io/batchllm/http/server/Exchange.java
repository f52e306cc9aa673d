package io.batchllm.http.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.batchllm.BatchException;
import io.batchllm.BatchOperations;
import io.batchllm.BatchService;
import io.batchllm.FileOperations;
import io.batchllm.RateLimitExceededException;
import io.batchllm.http.RequestLimiter;
import io.batchllm.http.auth.Principal;
import io.batchllm.http.auth.RateLimitHeaders;
import io.batchllm.http.auth.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/** One request and its response, with the helpers every route needs. Used by one thread. */
final class Exchange {
    static final String REQUEST_ID = "x-request-id";
    static final String SHOULD_RETRY = "x-should-retry";

    final Request request;
    final Response response;
    final ServerAssembly.Settings settings;
    private final Callback callback;
    private Fields query;
    private Principal principal;
    private boolean done;

    Exchange(Request request, Response response, Callback callback, ServerAssembly.Settings settings) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.settings = settings;
    }

    static String newRequestId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return "req_" + HexFormat.of().formatHex(b);
    }

    void principal(Principal p) {
        this.principal = p;
    }

    Principal principal() {
        return principal;
    }

    BatchService service() {
        return settings.service();
    }

    /** The Files API as this caller sees it: admins (and no auth) see every tenant, others their own. */
    FileOperations files() {
        return unscoped() ? service().files() : service().forTenant(principal.tenant()).files();
    }

    /** The Batches API as this caller sees it. */
    BatchOperations batches() {
        return unscoped() ? service().batches() : service().forTenant(principal.tenant()).batches();
    }

    private boolean unscoped() {
        return principal == null || principal.role() == Role.ADMIN;
    }

    /** The key the core's own upload and batch rate limits count against: the caller's tenant. */
    String callerKey() {
        return principal == null ? null : principal.tenant();
    }

    String query(String name) {
        if (query == null) {
            query = Request.extractQueryParameters(request);
        }
        return query.getValue(name);
    }

    int intQuery(String name, int defaultValue) {
        String v = query(name);
        if (v == null || v.isEmpty()) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new io.batchllm.InvalidRequestException(name, "Invalid '" + name + "': expected an integer, got '"
                    + v + "'.");
        }
    }

    String header(String name) {
        return request.getHeaders().get(name);
    }

    /**
     * Asks the limiter; an answer with limits adds the {@code x-ratelimit-*} headers (C8), a refusal
     * also {@code retry-after} and becomes a 429 {@code rate_limit_exceeded}.
     */
    void checkLimit(long tokens) {
        RequestLimiter.Decision d = settings.limiter().check(principal, Request.getRemoteAddr(request), tokens);
        RateLimitHeaders.of(d).forEach((name, value) -> response.getHeaders().put(name, value));
        if (!d.allowed()) {
            throw new RateLimited(RateLimitHeaders.message(d));
        }
    }

    /** A 429 whose headers ({@code retry-after}, and {@code x-should-retry} when waiting cannot help) are already set. */
    static final class RateLimited extends BatchException {
        RateLimited(String message) {
            super(429, "requests", "rate_limit_exceeded", null, message);
        }
    }

    InputStream body() {
        return Request.asInputStream(request);
    }

    void json(int status, Object body) {
        byte[] bytes;
        try {
            bytes = Json.OUT.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the response: " + e.getMessage(), e);
        }
        send(status, "application/json", bytes);
    }

    void text(int status, String contentType, String body) {
        send(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private void send(int status, String contentType, byte[] bytes) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        done = true;
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** Streams {@code content} as the body and closes it; blocking, on this request's virtual thread. */
    void stream(InputStream content, long length, String contentType) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        try (InputStream in = content; OutputStream out = Content.Sink.asOutputStream(response)) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("sending the file failed: " + e.getMessage(), e);
        }
        done = true;
        callback.succeeded();
    }

    /**
     * Answers with the error envelope (C4), unless the response is already under way: then the
     * connection is failed, which is all HTTP allows once a status was sent.
     */
    void error(BatchException e) {
        if (done) {
            return;
        }
        if (response.isCommitted()) {
            done = true;
            callback.failed(e);
            return;
        }
        int status = e.httpStatus();
        if (e instanceof RateLimitExceededException r && r.decision() != null) {
            // The core's own upload and batch-creation limits.
            response.getHeaders().put(HttpHeader.RETRY_AFTER, Math.max(1, (r.decision().resetAfter().toMillis() + 999)
                    / 1000));
        } else if (deterministic(status)) {
            // The SDKs retry 409 and 5xx by default; this failure would only repeat (C6).
            response.getHeaders().put(SHOULD_RETRY, "false");
        }
        send(status, "application/json", Json.errorEnvelope(e.getMessage(), e.type(), e.param(), e.code())
                .getBytes(StandardCharsets.UTF_8));
    }

    /** 503 (not ready, shutting down), 507 (disk full) and 429 may succeed later; the rest would fail again. */
    static boolean deterministic(int status) {
        return status != 503 && status != 507 && status != 429 && status != 408;
    }

    /** Whether a response has been (or is being) sent. */
    boolean done() {
        return done;
    }

    /** Ends the exchange after a failure that left no way to answer. */
    void fail(Throwable t) {
        if (!done) {
            done = true;
            callback.failed(t);
        }
    }
}
