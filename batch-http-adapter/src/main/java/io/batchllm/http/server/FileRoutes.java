package io.batchllm.http.server;

import io.batchllm.FileListQuery;
import io.batchllm.FileObject;
import io.batchllm.FileOperations;
import io.batchllm.FilePurpose;
import io.batchllm.ListOrder;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.jetty.http.HttpHeader;

/** {@code /v1/files}: upload (multipart, streamed), list, get, content, delete (F1–F11). */
final class FileRoutes {
    private final ServerAssembly.Settings settings;

    FileRoutes(ServerAssembly.Settings settings) {
        this.settings = settings;
    }

    void register(Routes routes) {
        routes.add("POST", "/v1/files", (ex, id) -> upload(ex));
        routes.add("GET", "/v1/files", (ex, id) -> list(ex));
        routes.add("GET", "/v1/files/{id}", (ex, id) -> ex.json(200, ex.files().get(id)));
        routes.add("DELETE", "/v1/files/{id}", (ex, id) -> ex.json(200, ex.files().delete(id)));
        routes.add("GET", "/v1/files/{id}/content", FileRoutes::content);
    }

    private static void list(Exchange ex) {
        String purpose = ex.query("purpose");
        String order = ex.query("order");
        FileListQuery q = new FileListQuery(purpose == null || purpose.isEmpty() ? null : FilePurpose.fromWire(purpose),
                emptyToNull(ex.query("after")), ex.intQuery("limit", FileListQuery.DEFAULT_LIMIT),
                order == null || order.isEmpty() ? ListOrder.DESC : ListOrder.fromWire(order));
        ex.json(200, ex.files().list(q));
    }

    private static void content(Exchange ex, String id) {
        FileOperations files = ex.files();
        FileObject f = files.get(id);
        ex.stream(files.content(id), f.bytes(), "application/octet-stream");
    }

    /**
     * Reads the whole form first (the file part spooled to disk by the parser), then stores the file
     * and answers. The answer is the last step: a File object is only sent once the file is stored,
     * and nothing after it can take the file back out.
     */
    private void upload(Exchange ex) throws IOException {
        String contentType = ex.header(HttpHeader.CONTENT_TYPE.asString());
        UploadForm.boundary(contentType);
        if (ex.request.getLength() > settings.maxUploadBytes()) {
            throw LimitedInputStream.tooLarge(settings.maxUploadBytes(), UploadForm.FILE);
        }
        FileObject stored;
        try (InputStream body = new LimitedInputStream(ex.body(), settings.maxUploadBytes(), UploadForm.FILE);
             UploadForm form = UploadForm.read(contentType, body, settings.spoolDirectory())) {
            // The service reads and closes the content; closing the form deletes the spooled part.
            stored = ex.files().upload(form.upload(ex.callerKey()));
        }
        ex.json(200, stored);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
