package io.batchllm.http.server;

import io.batchllm.FileListQuery;
import io.batchllm.FileObject;
import io.batchllm.FileOperations;
import io.batchllm.FilePurpose;
import io.batchllm.FileUpload;
import io.batchllm.InvalidRequestException;
import io.batchllm.ListOrder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpHeader;

/** {@code /v1/files}: upload (multipart, streamed), list, get, content, delete (F1–F11). */
final class FileRoutes {
    /** Longest accepted text field of the upload form ({@code purpose}, {@code expires_after[…]}). */
    static final int MAX_FIELD_BYTES = 1024;

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
     * Reads the form part by part. When {@code purpose} (and any {@code expires_after}) came before
     * the {@code file} part, the file streams straight into the store; the SDKs send the file first,
     * so then it is spooled to a temporary file until the purpose is known, and deleted afterwards
     * whatever happens.
     */
    private void upload(Exchange ex) throws IOException {
        String boundary = MultipartReader.boundary(ex.header(HttpHeader.CONTENT_TYPE.asString()));
        long declared = ex.request.getLength();
        if (declared > settings.maxUploadBytes()) {
            throw LimitedInputStream.tooLarge(settings.maxUploadBytes(), "file");
        }
        UploadForm form = new UploadForm();
        Path spool = null;
        FileObject stored = null;
        try (InputStream body = new LimitedInputStream(ex.body(), settings.maxUploadBytes(), "file")) {
            MultipartReader reader = new MultipartReader(body, boundary);
            for (MultipartReader.Part p = reader.next(); p != null; p = reader.next()) {
                switch (p.name()) {
                    case "file" -> {
                        if (form.filename != null) {
                            throw new InvalidRequestException("file", "The form has more than one 'file' part.");
                        }
                        if (p.filename() == null || p.filename().isBlank()) {
                            throw new InvalidRequestException("file", "The 'file' part needs a filename (its "
                                    + "Content-Disposition has no filename=\"…\").");
                        }
                        form.filename = p.filename();
                        if (form.purpose != null) {
                            stored = ex.files().upload(form.upload(p.content(), ex.callerKey()));
                        } else {
                            spool = Files.createTempFile(settings.spoolDirectory(), "upload-", ".spool");
                            Files.copy(p.content(), spool, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                    case "purpose" -> form.purpose = FilePurpose.forUpload(field(p));
                    case "expires_after[anchor]" -> form.anchor(field(p), stored != null);
                    case "expires_after[seconds]" -> form.seconds(field(p), stored != null);
                    default -> {
                        // Unknown fields are ignored, as unknown JSON keys are; the reader skips the content.
                    }
                }
            }
            if (form.filename == null) {
                throw new InvalidRequestException("file", "Missing required parameter: 'file'.");
            }
            if (form.purpose == null) {
                throw new InvalidRequestException("purpose", "Missing required parameter: 'purpose'.");
            }
            if (stored == null) {
                try (InputStream in = Files.newInputStream(spool)) {
                    stored = ex.files().upload(form.upload(in, ex.callerKey()));
                }
            }
            ex.json(200, stored);
        } catch (RuntimeException | IOException e) {
            if (stored != null) {
                // The file went in before the rest of the form turned out bad: take it back out.
                ex.files().delete(stored.id());
            }
            throw e;
        } finally {
            if (spool != null) {
                Files.deleteIfExists(spool);
            }
        }
    }

    private static String field(MultipartReader.Part p) throws IOException {
        byte[] b = p.content().readNBytes(MAX_FIELD_BYTES + 1);
        if (b.length > MAX_FIELD_BYTES) {
            throw new InvalidRequestException(p.name(), "The form field '" + p.name() + "' is longer than "
                    + MAX_FIELD_BYTES + " bytes.");
        }
        return new String(b, StandardCharsets.UTF_8).strip();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** The form's fields as they arrive. */
    private static final class UploadForm {
        String filename;
        FilePurpose purpose;
        Long expiresAfterSeconds;

        void anchor(String value, boolean fileAlreadyStored) {
            afterFile(fileAlreadyStored, "expires_after[anchor]");
            if (!value.equals("created_at")) {
                throw new InvalidRequestException("expires_after[anchor]", "expires_after[anchor] must be "
                        + "'created_at', got '" + value + "'.");
            }
        }

        void seconds(String value, boolean fileAlreadyStored) {
            afterFile(fileAlreadyStored, "expires_after[seconds]");
            try {
                expiresAfterSeconds = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new InvalidRequestException("expires_after[seconds]", "expires_after[seconds] must be an "
                        + "integer from 3600 to 2592000, got '" + value + "'.");
            }
        }

        /** A file streamed straight to the store was stored without this expiry; it cannot be added later. */
        private static void afterFile(boolean fileAlreadyStored, String param) {
            if (fileAlreadyStored) {
                throw new InvalidRequestException(param, param + " came after the 'file' part although 'purpose' "
                        + "came before it; send expires_after before the file (or purpose after it).");
            }
        }

        FileUpload upload(InputStream content, String callerKey) {
            return new FileUpload(content, filename, purpose, expiresAfterSeconds, callerKey);
        }
    }
}
