package io.batchllm.http.server;

import io.batchllm.BatchException;
import io.batchllm.FilePurpose;
import io.batchllm.FileUpload;
import io.batchllm.InsufficientStorageException;
import io.batchllm.InvalidRequestException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartConfig;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Attributes;

/**
 * The {@code POST /v1/files} form (F1), read whole with Jetty's {@code MultiPartFormData} parser
 * before anything is stored, so the parts may come in any order: the SDKs send {@code file} first,
 * OpenAI's curl example sends {@code purpose, file, expires_after[…]}. The {@code file} part is
 * spooled to disk by the parser (never held in memory); short fields stay in memory, and an over-long
 * field spills to disk too, so that it can be refused by name instead of by a parser limit that
 * names no part. Closing the form deletes the spooled parts. Not thread safe.
 */
final class UploadForm implements AutoCloseable {
    /** Longest accepted text field ({@code purpose}, {@code expires_after[…]}). */
    static final int MAX_FIELD_BYTES = 1024;
    /** Part headers allowed per part; real clients send about 150 bytes. */
    static final int MAX_PART_HEADER_BYTES = 8 * 1024;
    /** The four known fields, and room for a client that repeats one (refused by name, not by the parser). */
    static final int MAX_PARTS = 16;
    static final String FILE = "file";
    static final String PURPOSE = "purpose";
    static final String ANCHOR = "expires_after[anchor]";
    static final String SECONDS = "expires_after[seconds]";
    private static final Set<String> FIELDS = Set.of(FILE, PURPOSE, ANCHOR, SECONDS);

    private final MultiPartFormData.Parts parts;
    private MultiPart.Part file;
    private FilePurpose purpose;
    private String anchor;
    private Long expiresAfterSeconds;

    private UploadForm(MultiPartFormData.Parts parts) {
        this.parts = parts;
    }

    /**
     * Reads the whole body (up to its end, so the connection stays usable) and checks the form.
     *
     * @param body the request body, already capped at the largest upload
     * @param spool where the parser writes the file part
     * @throws InvalidRequestException a malformed form, a missing, repeated, unknown or over-long field
     */
    static UploadForm read(String contentType, InputStream body, Path spool) {
        boundary(contentType);
        MultiPartConfig config = new MultiPartConfig.Builder()
                .location(spool)
                .maxMemoryPartSize(MAX_FIELD_BYTES)
                .useFilesForPartsWithoutFileName(true)
                .maxParts(MAX_PARTS)
                .maxHeadersSize(MAX_PART_HEADER_BYTES)
                // No size limits of the parser's own: the body is capped where it is read (413 naming 'file').
                .maxSize(-1)
                .maxPartSize(-1)
                .build();
        MultiPartFormData.Parts parts;
        try {
            // The source reads the blocking stream on this (virtual) thread, so the parse, and the
            // parser's writes to the spool file, run here and are done when getParts returns.
            parts = MultiPartFormData.getParts(Content.Source.from(body), new Attributes.Mapped(), contentType, config);
        } catch (CompletionException e) {
            throw failure(e.getCause());
        }
        UploadForm form = new UploadForm(parts);
        try {
            // The parser completes at the closing boundary: read the epilogue too, so that the whole
            // body is consumed before the answer (an unconsumed body fails when it is closed).
            body.transferTo(OutputStream.nullOutputStream());
            form.check();
        } catch (IOException e) {
            form.close();
            throw failure(e);
        } catch (RuntimeException e) {
            form.close();
            throw e;
        }
        return form;
    }

    /** The upload the form describes, reading the spooled file part; the caller closes {@code content}. */
    FileUpload upload(String callerKey) {
        InputStream content = Content.Source.asInputStream(file.createContentSource());
        return new FileUpload(content, file.getFileName(), purpose, expiresAfterSeconds, callerKey);
    }

    /** Deletes the spooled parts. */
    @Override
    public void close() {
        parts.close();
    }

    private void check() {
        for (MultiPart.Part p : parts) {
            String name = p.getName();
            if (name == null || name.isEmpty()) {
                throw malformed("a part has no Content-Disposition name");
            }
            if (!FIELDS.contains(name)) {
                throw new InvalidRequestException(name, "unknown_parameter", "Unrecognized request argument "
                        + "supplied: '" + abbreviate(name) + "'. The form takes file, purpose, " + ANCHOR + " and "
                        + SECONDS + ".");
            }
            if (parts.getAll(name).size() > 1) {
                throw new InvalidRequestException(name, "The form has more than one '" + name + "' part.");
            }
            if (name.equals(FILE)) {
                if (p.getFileName() == null || p.getFileName().isBlank()) {
                    throw new InvalidRequestException(FILE, "The 'file' part needs a filename (its "
                            + "Content-Disposition has no filename=\"…\").");
                }
                file = p;
            } else if (name.equals(PURPOSE)) {
                purpose = FilePurpose.forUpload(field(p));
            } else if (name.equals(ANCHOR)) {
                anchor(field(p));
            } else {
                seconds(field(p));
            }
        }
        if (file == null) {
            throw new InvalidRequestException(FILE, "Missing required parameter: 'file'.");
        }
        if (purpose == null) {
            throw new InvalidRequestException(PURPOSE, "Missing required parameter: 'purpose'.");
        }
        // The spec's expiration policy requires both keys (FileExpirationAfter: required anchor, seconds).
        if ((anchor == null) != (expiresAfterSeconds == null)) {
            String missing = anchor == null ? ANCHOR : SECONDS;
            throw new InvalidRequestException(missing, "expires_after needs both " + ANCHOR + " and " + SECONDS
                    + "; '" + missing + "' is missing.");
        }
    }

    private void anchor(String value) {
        if (!value.equals("created_at")) {
            throw new InvalidRequestException(ANCHOR, ANCHOR + " must be 'created_at', got '" + abbreviate(value)
                    + "'.");
        }
        anchor = value;
    }

    private void seconds(String value) {
        try {
            expiresAfterSeconds = Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(SECONDS, SECONDS + " must be an integer from 3600 to 2592000, got '"
                    + abbreviate(value) + "'.");
        }
    }

    private static String field(MultiPart.Part p) {
        if (p.getLength() > MAX_FIELD_BYTES) {
            throw new InvalidRequestException(p.getName(), "The form field '" + p.getName() + "' is longer than "
                    + MAX_FIELD_BYTES + " bytes.");
        }
        return p.getContentAsString(StandardCharsets.UTF_8).strip();
    }

    /**
     * The boundary of a {@code multipart/form-data} content type.
     *
     * @throws InvalidRequestException another content type, or no boundary
     */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new InvalidRequestException("Content-Type", "invalid_content_type", "Uploads must be sent as "
                    + "multipart/form-data with a 'file' and a 'purpose' field; the Content-Type was "
                    + (contentType == null ? "missing" : "'" + abbreviate(contentType) + "'") + ".");
        }
        String b = MultiPart.extractBoundary(contentType);
        // RFC 2046 section 5.1.1: 1 to 70 characters.
        if (b == null || b.isEmpty() || b.length() > 70) {
            throw new InvalidRequestException("Content-Type", "invalid_content_type",
                    "The multipart/form-data Content-Type has no valid boundary parameter (1 to 70 characters).");
        }
        return b;
    }

    /**
     * A parse that failed: our own refusal (the body cap) as it is, a failed read of the body as the
     * timeout or early end it was, a failed write of the spool file as the server's fault, anything
     * else (Jetty's parser refusing the syntax or a limit) as a malformed form.
     */
    private static RuntimeException failure(Throwable cause) {
        if (cause instanceof BatchException e) {
            return e;
        }
        if (InsufficientStorageException.isFullDisk(cause)) {
            return new InsufficientStorageException("The upload cannot be spooled", cause);
        }
        BatchException body = BodyFailures.of(cause);
        if (body != null) {
            return body;
        }
        if (cause instanceof EOFException) {
            // The parser's own: the body (which was read completely) ends inside the form.
            return malformed("the body ends before its closing boundary (" + cause.getMessage() + ")");
        }
        if (cause instanceof IOException e) {
            return new UncheckedIOException("cannot spool the upload: " + e.getMessage(), e);
        }
        return malformed(String.valueOf(cause.getMessage()));
    }

    private static InvalidRequestException malformed(String what) {
        return new InvalidRequestException(FILE, "malformed_multipart", "Malformed multipart/form-data body: "
                + what + ". Send the upload as an ordinary form with a 'file' and a 'purpose' field.");
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "…";
    }
}
