package io.batchllm.http;

import io.batchllm.http.auth.Authenticator;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Supplies the security of one {@code --auth} mode (such as {@code keys} or {@code jwt}): the
 * authenticator and the request limiter. Found with {@link java.util.ServiceLoader} by
 * {@link #name()}; {@code --auth none} needs no provider. Implementations must be thread safe.
 */
public interface SecurityProvider {

    /** The {@code --auth} value this provider serves, such as {@code keys}. */
    String name();

    /** The authenticator for this mode; called once at start. */
    Authenticator authenticator(Context context);

    /** The request limiter for this mode; by default none. Called once at start. */
    default RequestLimiter requestLimiter(Context context) {
        return RequestLimiter.unlimited();
    }

    /**
     * What the server was started with.
     *
     * @param dataDirectory the service's data directory
     * @param dbUrl the job store's JDBC URL, or null for the embedded H2 under the data directory
     * @param dbUser its user, or null
     * @param dbPassword its password, or null
     * @param setting further settings by name (from {@code --config}, environment {@code BATCHLLM_*});
     *     returns null when unset
     */
    record Context(Path dataDirectory, String dbUrl, String dbUser, String dbPassword,
                   Function<String, String> setting) {
    }
}
