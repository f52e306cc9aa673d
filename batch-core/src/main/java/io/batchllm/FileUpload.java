package io.batchllm;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything an upload can say. Build with {@link #of(InputStream, String, FilePurpose)} or
 * {@link #of(Path, FilePurpose)}, then the {@code with…} methods.
 *
 * @param content the bytes, read once and streamed to disk (never held whole in memory); the caller
 *     closes it
 * @param filename the file name to record; batch input must end in {@code .jsonl}
 * @param purpose what the file is for
 * @param expiresAfterSeconds seconds after creation when the file expires (3600 to 2592000), or null
 *     for the default: 30 days for {@code batch}, never for other purposes
 * @param callerKey who is uploading, for rate limits; {@value BatchService#DEFAULT_CALLER} if null
 */
public record FileUpload(InputStream content, String filename, FilePurpose purpose, Long expiresAfterSeconds,
                         String callerKey) {
    public FileUpload {
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(purpose, "purpose");
        if (filename == null || filename.isBlank()) {
            throw new InvalidRequestException("file", "the uploaded file needs a file name");
        }
    }

    public static FileUpload of(InputStream content, String filename, FilePurpose purpose) {
        return new FileUpload(content, filename, purpose, null, null);
    }

    /** An upload of a local file; its stream is opened by the service and closed after the upload. */
    public static FileUpload of(Path path, FilePurpose purpose) {
        return new FileUpload(new LazyFileStream(path), path.getFileName().toString(), purpose, null, null);
    }

    public FileUpload withExpiresAfterSeconds(Long seconds) {
        return new FileUpload(content, filename, purpose, seconds, callerKey);
    }

    public FileUpload withCallerKey(String key) {
        return new FileUpload(content, filename, purpose, expiresAfterSeconds, key);
    }
}
