/**
 * The job store: where files, batches, request rows, results and the outbox live. {@link
 * io.batchllm.store.JobStore} is the contract; {@link io.batchllm.store.JdbcJobStore} implements it on
 * any JDBC database through HikariCP (H2 file mode by default).
 *
 * <p>The contract is written for several nodes sharing one database: request rows are claimed with
 * a lease whose expiry the database's clock computes, every claim carries a fencing token that later
 * writes must present, and batch transitions are guarded updates that exactly one writer wins.
 */
package io.batchllm.store;
