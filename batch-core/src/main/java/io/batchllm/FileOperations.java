package io.batchllm;

import java.io.InputStream;
import java.nio.file.Path;

/** The Files API (F1–F11), in-process. Obtained from {@link BatchService#files()}; thread safe. */
public interface FileOperations {

    /**
     * Stores a file. The content is streamed to disk; an upload over its size limit is refused
     * ({@link PayloadTooLargeException}) and nothing of it is kept.
     *
     * @throws InvalidRequestException a bad purpose, a batch file not named {@code .jsonl}, a bad expiry
     * @throws RateLimitExceededException the caller uploads too often
     */
    FileObject upload(FileUpload upload);

    /** Uploads a local file under its own name. */
    default FileObject upload(Path path, FilePurpose purpose) {
        return upload(FileUpload.of(path, purpose));
    }

    /** Uploads a stream under the given name. */
    default FileObject upload(InputStream content, String filename, FilePurpose purpose) {
        return upload(FileUpload.of(content, filename, purpose));
    }

    /** @throws NotFoundException no such file (or it was deleted) */
    FileObject get(String id);

    /** One page of files. */
    Page<FileObject> list(FileListQuery query);

    /** All files, newest first (up to 10,000). */
    default Page<FileObject> list() {
        return list(FileListQuery.all());
    }

    /**
     * The file's bytes; the caller closes the stream.
     *
     * @throws NotFoundException no such file
     */
    InputStream content(String id);

    /**
     * Deletes a file; afterwards {@link #get} gives 404. Deleting the input file of a running batch
     * is allowed: its bytes are kept until that batch finishes.
     *
     * @throws NotFoundException no such file
     */
    FileDeleted delete(String id);
}
