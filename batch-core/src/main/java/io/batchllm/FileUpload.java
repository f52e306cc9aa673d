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
 * @param filename the file name to record, at most {@value #MAX_FILENAME_LENGTH} characters; batch input
 *     must end in {@code .jsonl}
 * @param purpose what the file is for
 * @param expiresAfterSeconds seconds after creation when the file expires (3600 to 2592000), or null
 *     for the default: 30 days for {@code batch}, never for other purposes
 * @param callerKey who is uploading, for rate limits and as the file's owner, at most
 *     {@value #MAX_CALLER_KEY_LENGTH} characters; {@value BatchService#DEFAULT_CALLER} if null
 */
public record FileUpload(InputStream content, String filename, FilePurpose purpose, Long expiresAfterSeconds,
                         String callerKey) {
    /** Longest file name, in characters (the job store keeps up to this many). */
    public static final int MAX_FILENAME_LENGTH = 1024;
    /** Longest caller key, in characters (it becomes the file's owner in the job store). */
    public static final int MAX_CALLER_KEY_LENGTH = 256;

    public FileUpload {
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(purpose, "purpose");
        if (filename == null || filename.isBlank()) {
            throw new InvalidRequestException("file", "the uploaded file needs a file name");
        }
        if (filename.length() > MAX_FILENAME_LENGTH) {
            throw new InvalidRequestException("file", "The file name is " + filename.length() + " characters long; "
                    + "at most " + MAX_FILENAME_LENGTH + " are allowed.");
        }
        checkCallerKey(callerKey);
    }

    /** Refuses a caller key longer than the job store's owner column. */
    static void checkCallerKey(String callerKey) {
        if (callerKey != null && callerKey.length() > MAX_CALLER_KEY_LENGTH) {
            throw new IllegalArgumentException("the caller key is " + callerKey.length() + " characters long; at most "
                    + MAX_CALLER_KEY_LENGTH + " are allowed");
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
