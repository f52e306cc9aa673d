package io.batchllm;

/**
 * Parameters of a file list (F6).
 *
 * @param purpose only files of this purpose, or null for all
 * @param after the id of the last file of the previous page, or null for the first page
 * @param limit 1 to 10,000 (default {@value #DEFAULT_LIMIT})
 * @param order by creation time; default {@code desc}
 */
public record FileListQuery(FilePurpose purpose, String after, int limit, ListOrder order) {
    public static final int DEFAULT_LIMIT = 10_000;
    public static final int MAX_LIMIT = 10_000;

    public FileListQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new InvalidRequestException("limit", "limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
        }
        if (order == null) {
            order = ListOrder.DESC;
        }
    }

    /** All files, newest first, up to the default limit. */
    public static FileListQuery all() {
        return new FileListQuery(null, null, DEFAULT_LIMIT, ListOrder.DESC);
    }
}
