package io.batchllm.http.auth;

/** What a caller may do. */
public enum Role {
    /** Everything, across all tenants. */
    ADMIN,
    /** Read and write its own tenant's files and batches. */
    MEMBER,
    /** Read its own tenant's files and batches. */
    READER;

    public boolean canWrite() {
        return this != READER;
    }
}
