package io.batchllm.http.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.BatchCreateRequest;
import io.batchllm.Endpoint;
import io.batchllm.InvalidRequestException;
import io.batchllm.NotFoundException;
import java.io.InputStream;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;

/** {@code /v1/batches}: create, get, list, cancel (B1–B16). */
final class BatchRoutes {
    static final int DEFAULT_LIST_LIMIT = 20;

    private final ServerAssembly.Settings settings;
    private final Json json;

    BatchRoutes(ServerAssembly.Settings settings, Json json) {
        this.settings = settings;
        this.json = json;
    }

    void register(Routes routes) {
        routes.addSelfLimited("POST", "/v1/batches", (ex, id) -> create(ex));
        routes.add("GET", "/v1/batches", (ex, id) -> ex.json(200, ex.batches().list(ex.query("after") == null
                || ex.query("after").isEmpty() ? null : ex.query("after"), ex.intQuery("limit", DEFAULT_LIST_LIMIT))));
        routes.add("GET", "/v1/batches/{id}", (ex, id) -> ex.json(200, ex.batches().get(id)));
        routes.add("POST", "/v1/batches/{id}/cancel", (ex, id) -> ex.json(200, ex.batches().cancel(id)));
    }

    private void create(Exchange ex) throws Exception {
        requireJson(ex.header(HttpHeader.CONTENT_TYPE.asString()));
        long declared = ex.request.getLength();
        if (declared > settings.maxJsonBytes()) {
            throw LimitedInputStream.tooLarge(settings.maxJsonBytes(), "body");
        }
        ObjectNode body;
        try (InputStream in = new LimitedInputStream(ex.body(), settings.maxJsonBytes(), "body")) {
            body = json.object(in);
        }
        String inputFileId = Json.requiredString(body, "input_file_id");
        Endpoint endpoint = Endpoint.fromPath(Json.requiredString(body, "endpoint"));
        String window = Json.requiredString(body, "completion_window");
        BatchCreateRequest request = new BatchCreateRequest(inputFileId, endpoint, window, Json.metadata(body),
                Json.outputExpiresAfter(body), ex.callerKey());
        ex.checkLimit(estimatedTokens(ex, inputFileId));
        ex.json(200, ex.batches().create(request));
    }

    /**
     * Tokens the batch will enqueue, before validation has read it: about one per four bytes of input
     * (an upper-end estimate for English text). An unknown file costs nothing here; creation refuses it.
     */
    private static long estimatedTokens(Exchange ex, String inputFileId) {
        try {
            return (ex.files().get(inputFileId).bytes() + 3) / 4;
        } catch (NotFoundException e) {
            return 0;
        }
    }

    private static void requireJson(String contentType) {
        String base = contentType == null ? "" : contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
        if (!base.equals("application/json") && !base.endsWith("+json")) {
            throw new InvalidRequestException("Content-Type", "invalid_content_type", "Send the batch as JSON with "
                    + "'Content-Type: application/json'; the Content-Type was "
                    + (contentType == null ? "missing" : "'" + contentType + "'") + ".");
        }
    }
}
