package io.batchllm;

/**
 * The Files and Batches APIs limited to one tenant's objects; obtained from
 * {@link BatchService#forTenant(String)}. Thread safe.
 */
public interface TenantScope {

    /** The tenant that owns everything created through this scope. */
    String tenant();

    /** The tenant's files: uploads are owned by the tenant; other tenants' files are not found. */
    FileOperations files();

    /** The tenant's batches: its input file must be the tenant's; other tenants' batches are not found. */
    BatchOperations batches();
}
