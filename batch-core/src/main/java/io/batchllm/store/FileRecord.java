package io.batchllm.store;

import io.batchllm.FileObject;

/**
 * A stored file: its public view plus what only the service needs.
 *
 * @param file the File object
 * @param owner the caller that uploaded it (or the service, for result files)
 * @param deleted whether it was deleted (its row stays so that paging with {@code after} still works)
 */
public record FileRecord(FileObject file, String owner, boolean deleted) {
    public String id() {
        return file.id();
    }
}
