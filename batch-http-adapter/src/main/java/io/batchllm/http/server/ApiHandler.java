package io.batchllm.http.server;

import io.batchllm.BatchException;
import io.batchllm.InsufficientStorageException;
import io.batchllm.http.auth.AuthenticationException;
import io.batchllm.http.auth.Principal;
import io.batchllm.store.StoreException;
import io.micrometer.core.instrument.Timer;
import java.io.UncheckedIOException;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Every request: a request id (C7), routing (404/405), authentication (401), role check (403), the
 * request limiter on {@code /v1} routes and on failed authentications (429; {@code /health},
 * {@code /ready} and {@code /metrics} are never limited), the route, and one error envelope for
 * whatever goes wrong (C4). A blocking handler: Jetty runs it on a virtual thread.
 */
final class ApiHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

    /** The methods of RFC 9110 (and PATCH), the only ones that get their own metric label. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
            "TRACE", "PATCH");

    private final ServerAssembly.Settings settings;
    private final Routes routes;

    ApiHandler(ServerAssembly.Settings settings) {
        this.settings = settings;
        Json json = new Json(settings.maxJsonDepth(), settings.maxJsonBytes());
        this.routes = new Routes();
        new FileRoutes(settings).register(routes);
        new BatchRoutes(settings, json).register(routes);
        new SystemRoutes(settings).register(routes);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long started = System.nanoTime();
        String requestId = Exchange.newRequestId();
        response.getHeaders().put(Exchange.REQUEST_ID, requestId);
        Exchange ex = new Exchange(request, response, callback, settings);
        String method = request.getMethod();
        String path = Request.getPathInContext(request);
        String route = "unmatched";
        MDC.put("request_id", requestId);
        try {
            Routes.Match m = routes.match(method, path);
            route = m.route().name();
            if (m.route().authenticated()) {
                Principal p = authenticate(ex, request.getHeaders().get(HttpHeader.AUTHORIZATION));
                if (m.route().writes() && !p.role().canWrite()) {
                    throw new BatchException(403, "invalid_request_error", "permission_denied", null, "The key of '"
                            + p.id() + "' has role " + p.role().name().toLowerCase() + ", which may only read. Use a "
                            + "member or admin key to " + method + " " + path + ".");
                }
                ex.principal(p);
                if (!m.route().limitsItself()) {
                    ex.checkLimit(0);
                }
            }
            m.route().action().handle(ex, m.id());
        } catch (Routes.MethodNotAllowed e) {
            response.getHeaders().put(HttpHeader.ALLOW, String.join(", ", e.allowed));
            ex.error(e);
        } catch (StoreException e) {
            // The driver's message can hold SQL and schema names: the log gets it, the client does not.
            log.error("{} {} failed in the job store (request {}): {}", method, path, requestId, e.getMessage(), e);
            ex.error(new BatchException(500, "server_error", "store_error", null, "The job store failed; the error "
                    + "is logged under request id " + requestId + "."));
        } catch (BatchException e) {
            ex.error(e);
        } catch (UncheckedIOException e) {
            BatchException body = BodyFailures.of(e);
            if (body != null) {
                log.debug("{} {}: the request body could not be read: {}", method, path, e.getMessage());
                ex.error(body);
            } else if (e.getCause() instanceof EofException) {
                // The client went away while we answered; nobody is left to tell.
                log.debug("{} {}: client disconnected", method, path);
                ex.fail(e.getCause());
            } else {
                internalError(ex, method, path, requestId, e);
            }
        } catch (Exception e) {
            internalError(ex, method, path, requestId, e);
        } finally {
            MDC.remove("request_id");
            Timer.builder("http.server.requests")
                    .description("HTTP requests by route pattern, method and status")
                    .tag("method", methodTag(method))
                    .tag("route", route)
                    .tag("status", Integer.toString(response.getStatus()))
                    .register(settings.service().meterRegistry())
                    .record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        return true;
    }

    /**
     * The method as a metric label: any client may send any token as a method, and each distinct
     * label value is a series kept for the life of the process, so unknown ones share one value.
     */
    static String methodTag(String method) {
        return METHODS.contains(method) ? method : "other";
    }

    /**
     * The caller of a {@code /v1} route. A failed authentication counts against the client address's
     * request limit, so that guessing keys is throttled (429 with {@code retry-after}) like any other
     * flood.
     */
    private Principal authenticate(Exchange ex, String header) {
        try {
            Principal p = settings.authenticator().authenticate(header);
            if (p == null) {
                throw new AuthenticationException("the authenticator accepted no principal");
            }
            return p;
        } catch (AuthenticationException e) {
            ex.checkLimit(0);
            throw new BatchException(401, "invalid_request_error", "invalid_api_key", null, e.getMessage()
                    + ". Send 'Authorization: Bearer <key>'.");
        }
    }

    private static void internalError(Exchange ex, String method, String path, String requestId, Exception e) {
        if (InsufficientStorageException.isFullDisk(e)) {
            // A full disk (spooling an upload, say) is no bug, and /ready reports it: answer 507, log nothing.
            ex.error(new InsufficientStorageException("The request cannot be stored", e));
            return;
        }
        log.error("{} {} failed (request {}): {}", method, path, requestId, e.toString(), e);
        ex.error(new BatchException(500, "server_error", "internal_error", null, "The server failed to handle the "
                + "request; it is logged under request id " + requestId + "."));
    }
}
