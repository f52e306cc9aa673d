package io.batchllm.http.server;

import io.batchllm.BatchException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The route table: method plus a path pattern whose {@code {id}} segments capture one path
 * segment. An unknown path is 404; a known path with another method is 405 with {@code Allow}.
 */
final class Routes {

    /** What a route does with the exchange and the captured {@code {id}} (or null). */
    @FunctionalInterface
    interface Action {
        void handle(Exchange exchange, String id) throws Exception;
    }

    /**
     * @param name the pattern, also the {@code route} tag of the request metrics
     * @param authenticated whether the caller must authenticate ({@code /v1} routes)
     * @param writes whether it changes state (refused to read-only roles)
     * @param limitsItself whether the action asks the request limiter itself (it knows the token cost)
     */
    record Route(String method, String name, boolean authenticated, boolean writes, boolean limitsItself,
                 Action action) {
        String[] segments() {
            return name.substring(1).split("/");
        }
    }

    record Match(Route route, String id) {
    }

    private final List<Route> routes = new ArrayList<>();

    Routes add(String method, String pattern, Action action) {
        boolean v1 = pattern.startsWith("/v1/");
        boolean writes = !method.equals("GET");
        routes.add(new Route(method, pattern, v1, writes, false, action));
        return this;
    }

    Routes addSelfLimited(String method, String pattern, Action action) {
        routes.add(new Route(method, pattern, true, true, true, action));
        return this;
    }

    /** The route for this request; HEAD is served by the GET route. */
    Match match(String method, String path) {
        String[] parts = path.length() > 1 && path.endsWith("/") ? path.substring(1, path.length() - 1).split("/")
                : path.substring(1).split("/");
        String want = method.equals("HEAD") ? "GET" : method;
        Set<String> allowed = new LinkedHashSet<>();
        for (Route r : routes) {
            String id = matches(r.segments(), parts);
            if (id == null) {
                continue;
            }
            if (r.method().equals(want)) {
                return new Match(r, id.isEmpty() ? null : id);
            }
            allowed.add(r.method());
        }
        if (!allowed.isEmpty()) {
            throw new MethodNotAllowed(method, path, allowed);
        }
        throw new BatchException(404, "invalid_request_error", "unknown_url", null, "Unknown request URL: " + method
                + " " + path + ". Routes are under /v1/files, /v1/batches and /v1/models (the base URL ends in /v1), "
                + "plus /health, /ready and /metrics.");
    }

    /** The captured id ("" when the pattern has none), or null when the path does not match. */
    private static String matches(String[] pattern, String[] parts) {
        if (pattern.length != parts.length) {
            return null;
        }
        String id = "";
        for (int i = 0; i < pattern.length; i++) {
            if (pattern[i].equals("{id}")) {
                if (parts[i].isEmpty()) {
                    return null;
                }
                id = parts[i];
            } else if (!pattern[i].equals(parts[i])) {
                return null;
            }
        }
        return id;
    }

    /** 405, with the methods the path does accept. */
    static final class MethodNotAllowed extends BatchException {
        final Set<String> allowed;

        MethodNotAllowed(String method, String path, Set<String> allowed) {
            super(405, "invalid_request_error", "method_not_allowed", null, "Method " + method + " is not allowed on "
                    + path + ". Allowed: " + String.join(", ", allowed) + ".");
            this.allowed = allowed;
        }
    }
}
