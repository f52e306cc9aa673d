package io.batchllm.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.batchllm.Batch;
import io.batchllm.BatchError;
import io.batchllm.BatchErrors;
import io.batchllm.BatchStatus;
import io.batchllm.BatchUsage;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.InsufficientStorageException;
import io.batchllm.ListOrder;
import io.batchllm.RequestCounts;
import io.batchllm.spi.BatchOutcome;
import io.batchllm.spi.RequestOutcome;
import io.batchllm.spi.TokenUsage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The {@link JobStore} on a JDBC database through a HikariCP pool: H2 (file mode, the embedded
 * default) or PostgreSQL. The schema is created or upgraded on open ({@link SchemaMigrator}).
 *
 * <p>On embedded H2 the store adds {@code WRITE_DELAY=0} (each commit is in the file before it
 * returns) and {@code DB_CLOSE_ON_EXIT=FALSE} (the service, not H2's own shutdown hook, closes the
 * database, after it has stored what finished) to a URL that does not set them.
 *
 * <p>Thread safe. Every method is one transaction, except {@link #loadRequests}, which loads in small ones.
 */
public final class JdbcJobStore implements JobStore {

    /** Pool size: enough for the worker, the writer, finalization, handlers and API callers at once. */
    public static final int DEFAULT_POOL_SIZE = 8;
    /** Request rows per transaction while loading a batch (and per transaction when deleting them). */
    static final int LOAD_CHUNK_ROWS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BATCH_COLUMNS = "id, endpoint, input_file_id, completion_window, status, stop_reason, "
            + "created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at, cancelling_at, "
            + "cancelled_at, output_file_id, error_file_id, total, completed, failed, input_tokens, output_tokens, "
            + "cached_tokens, model, metadata, errors, output_expires_after, owner";
    private static final String FILE_COLUMNS = "id, filename, purpose, bytes, created_at, expires_at, owner, deleted";

    private final HikariDataSource dataSource;
    private final SqlDialect dialect;
    /**
     * H2 makes a commit visible to other connections before it has written it to the file: the
     * commit first marks the transaction committed, then walks its undo log, then stores the change.
     * A caller shown a status in that moment would find it gone after a crash. So on H2, reads whose
     * result callers see ({@link #shown}) wait while a commit is in progress, and commits wait for
     * such reads: a caller is shown only what is durable. Null on PostgreSQL, which makes a commit
     * visible only once it is durable.
     */
    private final ReadWriteLock visibility;

    private JdbcJobStore(HikariDataSource dataSource, SqlDialect dialect) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.visibility = dialect == SqlDialect.H2 ? new ReentrantReadWriteLock() : null;
    }

    /** The embedded default: an H2 database in file mode at {@code dataDirectory/batchllm}. */
    public static JdbcJobStore h2(Path dataDirectory) {
        return open("jdbc:h2:file:" + dataDirectory.toAbsolutePath().resolve("batchllm"), "sa", "", DEFAULT_POOL_SIZE);
    }

    /** A store on any supported JDBC URL ({@code jdbc:h2:…} or {@code jdbc:postgresql:…}). */
    public static JdbcJobStore open(String jdbcUrl, String user, String password, int poolSize) {
        SqlDialect dialect = SqlDialect.forUrl(jdbcUrl);
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(dialect == SqlDialect.H2 ? embeddedH2Settings(jdbcUrl) : jdbcUrl);
        cfg.setUsername(user);
        cfg.setPassword(password);
        cfg.setMaximumPoolSize(poolSize);
        cfg.setPoolName("batchllm-store");
        cfg.setAutoCommit(true);
        cfg.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        // H2 closes its database after a failed write (a full disk); its connections are dead from then
        // on. tx() then evicts the whole pool, so that the next connection opens the database again once
        // the disk has room: no restart needed. The pool itself leaves them be: it would log a stack
        // trace for every one, on every failed write, for as long as the disk stays full.
        cfg.setExceptionOverride(new LeaveClosedH2ConnectionsToTx());
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(cfg);
        } catch (RuntimeException e) {
            throw inUse(e) ? new StoreException("the database " + jdbcUrl + " is in use by another process: embedded "
                    + "H2 admits one process at a time (a BatchLLM server or run-batch on the same data directory?); "
                    + "stop that process or use another data directory", e) : e;
        }
        try {
            new SchemaMigrator(dialect).migrate(ds);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        return new JdbcJobStore(ds, dialect);
    }

    /**
     * An embedded H2 URL with the settings durability needs, unless the URL sets them itself:
     * {@code WRITE_DELAY=0}, so that a commit is in the file before it returns (H2's default delays it
     * by 500 ms, and a kill then loses what callers were shown), and {@code DB_CLOSE_ON_EXIT=FALSE}, so
     * that H2's own shutdown hook does not close the database while the service, in its shutdown
     * hook, still stores results. Server and in-memory URLs are left as they are.
     */
    static String embeddedH2Settings(String url) {
        if (url.startsWith("jdbc:h2:tcp:") || url.startsWith("jdbc:h2:ssl:") || url.startsWith("jdbc:h2:mem:")) {
            return url;
        }
        String upper = url.toUpperCase(Locale.ROOT);
        StringBuilder b = new StringBuilder(url);
        if (!upper.contains(";WRITE_DELAY=")) {
            b.append(";WRITE_DELAY=0");
        }
        if (!upper.contains(";DB_CLOSE_ON_EXIT=")) {
            b.append(";DB_CLOSE_ON_EXIT=FALSE");
        }
        return b.toString();
    }

    /** Leaves connections that failed with H2's "the database has been closed" to tx(), which evicts them all. */
    private static final class LeaveClosedH2ConnectionsToTx implements SQLExceptionOverride {
        @java.lang.Override
        public Override adjudicate(SQLException e) {
            return closedCode(e) ? Override.DO_NOT_EVICT : Override.CONTINUE_EVICT;
        }
    }

    private static boolean closedCode(SQLException e) {
        return e.getErrorCode() == org.h2.api.ErrorCode.DATABASE_IS_CLOSED
                || e.getErrorCode() == org.h2.api.ErrorCode.DATABASE_CALLED_AT_SHUTDOWN;
    }

    /** Whether {@code e}, a cause or a suppressed exception says the H2 database closed itself. */
    private static boolean databaseClosed(Throwable e) {
        return anyInChain(e, t -> t instanceof SQLException sql && closedCode(sql));
    }

    /** Whether {@code e}, one of its causes or of their suppressed exceptions, matches. */
    private static boolean anyInChain(Throwable e, Predicate<Throwable> matches) {
        // H2's exceptions after a failed write refer to each other in a cycle: visit each once.
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Throwable> todo = new ArrayDeque<>(List.of(e));
        while (!todo.isEmpty()) {
            Throwable t = todo.pop();
            if (!seen.add(t)) {
                continue;
            }
            if (matches.test(t)) {
                return true;
            }
            if (t.getCause() != null) {
                todo.push(t.getCause());
            }
            todo.addAll(List.of(t.getSuppressed()));
        }
        return false;
    }

    /** The exception callers see for a failed store operation: 507 when the disk is full. */
    private static RuntimeException failure(SQLException e) {
        if (InsufficientStorageException.isFullDisk(e)) {
            return new InsufficientStorageException("The job store cannot write", e);
        }
        return new StoreException("job store operation failed: " + e.getMessage(), e);
    }

    /** Whether opening failed because another process holds the H2 file (H2 error 90020). */
    private static boolean inUse(Throwable e) {
        return anyInChain(e, t -> t instanceof SQLException sql
                && sql.getErrorCode() == org.h2.api.ErrorCode.DATABASE_ALREADY_OPEN_1);
    }

    /** The pool, for components that share the database (such as a JDBC result handler). */
    public javax.sql.DataSource dataSource() {
        return dataSource;
    }

    // ---------------------------------------------------------------- transactions

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T tx(SqlWork<T> work) {
        return tx(work, false);
    }

    /** A read whose result is shown to callers: it sees only commits that are durable ({@link #visibility}). */
    private <T> T shown(SqlWork<T> work) {
        if (visibility == null) {
            return tx(work, false);
        }
        Lock read = visibility.readLock();
        read.lock();
        try {
            return tx(work, true);
        } finally {
            read.unlock();
        }
    }

    private <T> T tx(SqlWork<T> work, boolean shownRead) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                if (shownRead) {
                    c.commit(); // read only, and under the read lock: nothing to make visible
                } else {
                    commit(c);
                }
                c.setAutoCommit(true);
                return result;
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
        } catch (SQLException e) {
            if (databaseClosed(e)) {
                // Every pooled connection is dead with it; new ones open the database again.
                dataSource.getHikariPoolMXBean().softEvictConnections();
            }
            throw failure(e);
        }
    }

    /** Rolls back after {@code failure}; a connection too broken to roll back must not hide why it failed. */
    private static void rollback(Connection c, Exception failure) {
        try {
            c.rollback();
            c.setAutoCommit(true);
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }

    /** Commits; on H2, while no shown read runs, so that none sees the commit before it is durable. */
    private void commit(Connection c) throws SQLException {
        if (visibility == null) {
            c.commit();
            return;
        }
        Lock write = visibility.writeLock();
        write.lock();
        try {
            c.commit();
        } finally {
            write.unlock();
        }
    }

    // ---------------------------------------------------------------- files

    @Override
    public void insertFile(FileRecord f) {
        tx(c -> {
            insertFile(c, f);
            return null;
        });
    }

    private static void insertFile(Connection c, FileRecord f) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO files (" + FILE_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?)")) {
            FileObject o = f.file();
            ps.setString(1, o.id());
            ps.setString(2, o.filename());
            ps.setString(3, o.purpose().wire());
            ps.setLong(4, o.bytes());
            ps.setLong(5, o.createdAt());
            setLong(ps, 6, o.expiresAt());
            ps.setString(7, f.owner());
            ps.setBoolean(8, f.deleted());
            ps.executeUpdate();
        }
    }

    @Override
    public Optional<FileRecord> findFile(String id) {
        return shown(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + FILE_COLUMNS + " FROM files WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(file(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<FileRecord> listFiles(FilePurpose purpose, String owner, String afterId, int limit, ListOrder order) {
        boolean asc = order == ListOrder.ASC;
        StringBuilder sql = new StringBuilder("SELECT " + FILE_COLUMNS + " FROM files WHERE deleted = FALSE");
        List<Object> args = new ArrayList<>();
        if (purpose != null) {
            sql.append(" AND purpose = ?");
            args.add(purpose.wire());
        }
        if (owner != null) {
            sql.append(" AND owner = ?");
            args.add(owner);
        }
        if (afterId != null) {
            sql.append(" AND seq ").append(asc ? ">" : "<").append(" (SELECT seq FROM files WHERE id = ?");
            args.add(afterId);
            cursorOwner(sql, args, owner);
        }
        sql.append(" ORDER BY seq ").append(asc ? "ASC" : "DESC").append(" LIMIT ?");
        args.add(limit);
        return shown(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                bind(ps, args);
                List<FileRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(file(rs));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Closes a cursor's subquery. A cursor naming another owner's object finds no row, so the page is
     * empty exactly as for an id that does not exist: otherwise a tenant could probe other tenants'
     * ids by whether a page comes back.
     */
    private static void cursorOwner(StringBuilder sql, List<Object> args, String owner) {
        if (owner != null) {
            sql.append(" AND owner = ?");
            args.add(owner);
        }
        sql.append(")");
    }

    @Override
    public boolean markFileDeleted(String id) {
        return tx(c -> update(c, "UPDATE files SET deleted = TRUE WHERE id = ? AND deleted = FALSE", id) == 1);
    }

    @Override
    public boolean isInputOfActiveBatch(String fileId) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM batches WHERE input_file_id = ? "
                    + "AND status NOT IN ('completed', 'failed', 'expired', 'cancelled')")) {
                ps.setString(1, fileId);
                return count(ps) > 0;
            }
        });
    }

    private static FileRecord file(ResultSet rs) throws SQLException {
        FileObject o = new FileObject(rs.getString(1), rs.getLong(4), rs.getLong(5), rs.getString(2),
                FilePurpose.fromWire(rs.getString(3)), "processed", getLong(rs, 6), null);
        return new FileRecord(o, rs.getString(7), rs.getBoolean(8));
    }

    // ---------------------------------------------------------------- batches

    @Override
    public void insertBatch(BatchRecord r) {
        tx(c -> {
            Batch b = r.batch();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batches (id, endpoint, input_file_id, "
                    + "completion_window, status, created_at, expires_at, metadata, output_expires_after, owner) "
                    + "VALUES (?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, b.id());
                ps.setString(2, b.endpoint());
                ps.setString(3, b.inputFileId());
                ps.setString(4, b.completionWindow());
                ps.setString(5, b.status().wire());
                ps.setLong(6, b.createdAt());
                setLong(ps, 7, b.expiresAt());
                ps.setString(8, b.metadata() == null ? null : json(b.metadata()));
                setLong(ps, 9, r.outputExpiresAfterSeconds());
                ps.setString(10, r.owner());
                ps.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public Optional<BatchRecord> findBatch(String id) {
        return shown(c -> findBatch(c, id));
    }

    private static Optional<BatchRecord> findBatch(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + BATCH_COLUMNS + " FROM batches WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(batch(rs)) : Optional.empty();
            }
        }
    }

    @Override
    public List<BatchRecord> listBatches(String owner, String afterId, int limit) {
        StringBuilder sql = new StringBuilder("SELECT " + BATCH_COLUMNS + " FROM batches WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (owner != null) {
            sql.append(" AND owner = ?");
            args.add(owner);
        }
        if (afterId != null) {
            sql.append(" AND seq < (SELECT seq FROM batches WHERE id = ?");
            args.add(afterId);
            cursorOwner(sql, args, owner);
        }
        sql.append(" ORDER BY seq DESC LIMIT ?");
        args.add(limit);
        return shown(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                bind(ps, args);
                List<BatchRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(batch(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public List<String> batchIdsWithStatus(Set<BatchStatus> statuses) {
        if (statuses.isEmpty()) {
            return List.of();
        }
        String in = statuses.stream().map(s -> "'" + s.wire() + "'").collect(Collectors.joining(","));
        return tx(c -> ids(c, "SELECT id FROM batches WHERE status IN (" + in + ") ORDER BY seq"));
    }

    @Override
    public boolean failValidation(String batchId, List<BatchError> errors, long at, boolean outbox) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET status = 'failed', failed_at = ?, "
                    + "errors = ? WHERE id = ? AND status = 'validating'")) {
                ps.setLong(1, at);
                ps.setString(2, json(errors));
                ps.setString(3, batchId);
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            if (outbox) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO outbox (batch_id, line_no) VALUES (?, NULL)")) {
                    ps.setString(1, batchId);
                    ps.executeUpdate();
                }
            }
            return true;
        });
    }

    @Override
    public List<String> expiredFiles(long now) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM files WHERE deleted = FALSE "
                    + "AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY seq")) {
                ps.setLong(1, now);
                return ids(ps);
            }
        });
    }

    @Override
    public RequestLoader loadRequests(String batchId) {
        return new JdbcRequestLoader(batchId);
    }

    @Override
    public boolean requestCancel(String batchId, long at) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET status = 'cancelling', cancelling_at = ? "
                    + "WHERE id = ? AND status IN ('validating', 'in_progress')")) {
                ps.setLong(1, at);
                ps.setString(2, batchId);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean requestExpiry(String batchId) {
        return tx(c -> update(c, "UPDATE batches SET stop_reason = 'EXPIRE' WHERE id = ? AND status = 'in_progress' "
                + "AND stop_reason IS NULL", batchId) == 1);
    }

    @Override
    public List<String> dueForExpiry(long now) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM batches WHERE status IN ('validating', "
                    + "'in_progress') AND stop_reason IS NULL AND expires_at <= ? ORDER BY seq")) {
                ps.setLong(1, now);
                return ids(ps);
            }
        });
    }

    @Override
    public List<String> batchesToFinalize() {
        return tx(c -> ids(c, "SELECT id FROM batches WHERE status IN ('finalizing', 'cancelling') "
                + "OR (status = 'in_progress' AND (stop_reason IS NOT NULL OR completed + failed = total)) ORDER BY seq"));
    }

    @Override
    public long unfinishedRequests() {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(total - completed - failed), 0) "
                    + "FROM batches WHERE status IN ('in_progress', 'cancelling')")) {
                return count(ps);
            }
        });
    }

    @Override
    public boolean beginFinalizing(String batchId, long at) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET status = 'finalizing', finalizing_at = ? "
                    + "WHERE id = ? AND status = 'in_progress' AND completed + failed = total")) {
                ps.setLong(1, at);
                ps.setString(2, batchId);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public long countActiveLeases(String batchId) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM requests WHERE batch_id = ? "
                    + "AND state = 1 AND lease_expires_at > CURRENT_TIMESTAMP")) {
                ps.setString(1, batchId);
                return count(ps);
            }
        });
    }

    @Override
    public void forEachLine(String batchId, Consumer<FinishedLine> consumer) {
        tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT line_no, custom_id, state, status_code, result_body, "
                    + "error_code, error_message, prompt_tokens, completion_tokens, cached_tokens FROM requests "
                    + "WHERE batch_id = ? ORDER BY line_no")) {
                ps.setFetchSize(500);
                ps.setString(1, batchId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        StoredResult result = rs.getInt(3) == 2 ? result(rs, 4) : null;
                        consumer.accept(new FinishedLine(rs.getInt(1), rs.getString(2), result));
                    }
                }
            }
            return null;
        });
    }

    @Override
    public boolean terminate(BatchTermination t, boolean outbox) {
        return tx(c -> {
            String stampColumn = switch (t.to()) {
                case COMPLETED -> "completed_at";
                case CANCELLED -> "cancelled_at";
                case EXPIRED -> "expired_at";
                default -> throw new IllegalArgumentException("not a terminal status of a batch that ran: " + t.to());
            };
            try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET status = ?, " + stampColumn + " = ?, "
                    + "output_file_id = ?, error_file_id = ?, completed = ?, failed = ? WHERE id = ? AND status = ?")) {
                ps.setString(1, t.to().wire());
                ps.setLong(2, t.at());
                ps.setString(3, t.outputFile() == null ? null : t.outputFile().id());
                ps.setString(4, t.errorFile() == null ? null : t.errorFile().id());
                ps.setLong(5, t.completed());
                ps.setLong(6, t.failed());
                ps.setString(7, t.batchId());
                ps.setString(8, t.from().wire());
                if (ps.executeUpdate() != 1) {
                    c.rollback();
                    return false;
                }
            }
            if (t.outputFile() != null) {
                insertFile(c, t.outputFile());
            }
            if (t.errorFile() != null) {
                insertFile(c, t.errorFile());
            }
            if (t.unrunErrorCode() != null) {
                if (outbox) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO outbox (batch_id, line_no) "
                            + "SELECT batch_id, line_no FROM requests WHERE batch_id = ? AND state <> 2 ORDER BY line_no")) {
                        ps.setString(1, t.batchId());
                        ps.executeUpdate();
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE requests SET state = 2, status_code = 0, "
                        + "error_code = ?, error_message = ?, lease_owner = NULL, lease_token = NULL, "
                        + "lease_expires_at = NULL WHERE batch_id = ? AND state <> 2")) {
                    ps.setString(1, t.unrunErrorCode());
                    ps.setString(2, t.unrunErrorMessage());
                    ps.setString(3, t.batchId());
                    ps.executeUpdate();
                }
            }
            if (outbox) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO outbox (batch_id, line_no) VALUES (?, NULL)")) {
                    ps.setString(1, t.batchId());
                    ps.executeUpdate();
                }
            }
            return true;
        });
    }

    private static BatchRecord batch(ResultSet rs) throws SQLException {
        String metadataJson = rs.getString(25);
        String errorsJson = rs.getString(26);
        long total = rs.getLong(18);
        Batch b = new Batch(
                rs.getString(1), rs.getString(2),
                errorsJson == null ? null : new BatchErrors(parse(errorsJson, new TypeReference<List<BatchError>>() { })),
                rs.getString(3), rs.getString(4), BatchStatus.fromWire(rs.getString(5)),
                rs.getString(16), rs.getString(17), rs.getLong(7),
                getLong(rs, 8), getLong(rs, 9), getLong(rs, 10), getLong(rs, 11), getLong(rs, 12), getLong(rs, 13),
                getLong(rs, 14), getLong(rs, 15),
                new RequestCounts(total, rs.getLong(19), rs.getLong(20)),
                metadataJson == null ? null : parse(metadataJson, new TypeReference<Map<String, String>>() { }),
                rs.getString(24),
                new BatchUsage(rs.getLong(21), rs.getLong(22), rs.getLong(23)));
        String stop = rs.getString(6);
        return new BatchRecord(b, stop == null ? null : StopReason.valueOf(stop), getLong(rs, 27), rs.getString(28));
    }

    // ---------------------------------------------------------------- request rows

    @Override
    public List<ClaimedRequest> claim(String owner, Set<String> models, int max, Duration lease) {
        if (models.isEmpty() || max <= 0) {
            return List.of();
        }
        return tx(c -> {
            List<ActiveBatch> active = new ArrayList<>();
            String in = String.join(",", Collections.nCopies(models.size(), "?"));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, model, endpoint, input_file_id FROM batches "
                    + "WHERE status = 'in_progress' AND stop_reason IS NULL AND completed + failed < total "
                    + "AND model IN (" + in + ") ORDER BY seq")) {
                bind(ps, new ArrayList<>(models));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        active.add(new ActiveBatch(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                    }
                }
            }
            if (active.isEmpty()) {
                return List.of();
            }
            long token = nextToken(c);
            List<ClaimedRequest> won = new ArrayList<>();
            for (ActiveBatch b : active) {
                int want = max - won.size();
                if (want <= 0) {
                    break;
                }
                claimPendingRange(c, b, want, owner, token, lease, won);
                want = max - won.size();
                if (want > 0) {
                    claimExpired(c, b, want, owner, token, lease, won);
                }
            }
            return won;
        });
    }

    /**
     * Leases the next {@code want} pending rows of a batch with one range update: pending rows are
     * mostly contiguous, and one statement over a key range costs far less than one per row. The
     * {@code state = 0} guard skips rows in the range that are not pending (or that another node took
     * meanwhile), and reading back by the fencing token tells exactly which rows are ours.
     */
    private void claimPendingRange(Connection c, ActiveBatch b, int want, String owner, long token, Duration lease,
                                   List<ClaimedRequest> out) throws SQLException {
        int lo;
        int hi;
        try (PreparedStatement ps = c.prepareStatement("SELECT line_no FROM requests WHERE batch_id = ? AND state = 0 "
                + "ORDER BY line_no LIMIT ?")) {
            ps.setString(1, b.id());
            ps.setInt(2, want);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return;
                }
                lo = rs.getInt(1);
                hi = lo;
                while (rs.next()) {
                    hi = rs.getInt(1);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE requests SET state = 1, lease_owner = ?, lease_token = ?, "
                + "lease_expires_at = " + dialect.leaseExpiry() + " WHERE batch_id = ? AND line_no BETWEEN ? AND ? "
                + "AND state = 0")) {
            ps.setString(1, owner);
            ps.setLong(2, token);
            ps.setLong(3, lease.toMillis());
            ps.setString(4, b.id());
            ps.setInt(5, lo);
            ps.setInt(6, hi);
            if (ps.executeUpdate() == 0) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT line_no, custom_id, body_offset, body_length FROM requests "
                + "WHERE batch_id = ? AND line_no BETWEEN ? AND ? AND lease_token = ? ORDER BY line_no")) {
            ps.setString(1, b.id());
            ps.setInt(2, lo);
            ps.setInt(3, hi);
            ps.setLong(4, token);
            readClaims(ps, b, token, out);
        }
    }

    /** Leases rows whose lease ran out (their worker died or stalled), one guarded update each; rare. */
    private void claimExpired(Connection c, ActiveBatch b, int want, String owner, long token, Duration lease,
                              List<ClaimedRequest> out) throws SQLException {
        List<ClaimedRequest> candidates = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT line_no, custom_id, body_offset, body_length FROM requests "
                + "WHERE batch_id = ? AND state = 1 AND lease_expires_at < CURRENT_TIMESTAMP ORDER BY line_no LIMIT ?")) {
            ps.setString(1, b.id());
            ps.setInt(2, want);
            readClaims(ps, b, token, candidates);
        }
        if (candidates.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE requests SET lease_owner = ?, lease_token = ?, "
                + "lease_expires_at = " + dialect.leaseExpiry() + " WHERE batch_id = ? AND line_no = ? AND state = 1 "
                + "AND lease_expires_at < CURRENT_TIMESTAMP")) {
            for (ClaimedRequest r : candidates) {
                ps.setString(1, owner);
                ps.setLong(2, token);
                ps.setLong(3, lease.toMillis());
                ps.setString(4, r.batchId());
                ps.setInt(5, r.lineNo());
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 1 || counts[i] == Statement.SUCCESS_NO_INFO) {
                    out.add(candidates.get(i));
                }
            }
        }
    }

    private static void readClaims(PreparedStatement ps, ActiveBatch b, long token, List<ClaimedRequest> out)
            throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new ClaimedRequest(b.id(), rs.getInt(1), rs.getString(2), b.model(), b.endpoint(),
                        b.inputFileId(), rs.getLong(3), rs.getInt(4), token));
            }
        }
    }

    /** A running batch that may have rows to claim. */
    private record ActiveBatch(String id, String model, String endpoint, String inputFileId) {
    }

    @Override
    public int renewLeases(String owner, Duration lease) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE requests SET lease_expires_at = " + dialect.leaseExpiry()
                    + " WHERE lease_owner = ? AND state = 1")) {
                ps.setLong(1, lease.toMillis());
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public int releaseLeases(String owner) {
        return tx(c -> update(c, "UPDATE requests SET state = 0, lease_owner = NULL, lease_token = NULL, "
                + "lease_expires_at = NULL WHERE lease_owner = ? AND state = 1", owner));
    }

    @Override
    public CompletionResult complete(List<RequestCompletion> completions, boolean outbox) {
        if (completions.isEmpty()) {
            return new CompletionResult(List.of(), Set.of());
        }
        return tx(c -> {
            List<RequestCompletion> accepted = new ArrayList<>(completions.size());
            try (PreparedStatement ps = c.prepareStatement("UPDATE requests SET state = 2, status_code = ?, "
                    + "result_body = ?, error_code = ?, error_message = ?, prompt_tokens = ?, completion_tokens = ?, "
                    + "cached_tokens = ?, lease_owner = NULL, lease_expires_at = NULL "
                    + "WHERE batch_id = ? AND line_no = ? AND lease_token = ? AND state = 1")) {
                for (RequestCompletion rc : completions) {
                    StoredResult r = rc.result();
                    ps.setInt(1, r.statusCode());
                    ps.setString(2, r.body());
                    ps.setString(3, r.errorCode());
                    ps.setString(4, truncate(r.errorMessage()));
                    ps.setLong(5, r.usage().promptTokens());
                    ps.setLong(6, r.usage().completionTokens());
                    ps.setLong(7, r.usage().cachedPromptTokens());
                    ps.setString(8, rc.batchId());
                    ps.setInt(9, rc.lineNo());
                    ps.setLong(10, rc.leaseToken());
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                for (int i = 0; i < counts.length; i++) {
                    if (counts[i] == 1 || counts[i] == Statement.SUCCESS_NO_INFO) {
                        accepted.add(completions.get(i));
                    }
                }
            }
            Map<String, long[]> perBatch = new HashMap<>();
            for (RequestCompletion rc : accepted) {
                long[] a = perBatch.computeIfAbsent(rc.batchId(), k -> new long[5]);
                StoredResult r = rc.result();
                a[r.succeeded() ? 0 : 1]++;
                a[2] += r.usage().promptTokens();
                a[3] += r.usage().completionTokens();
                a[4] += r.usage().cachedPromptTokens();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET completed = completed + ?, "
                    + "failed = failed + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
                    + "cached_tokens = cached_tokens + ? WHERE id = ?")) {
                for (Map.Entry<String, long[]> e : perBatch.entrySet()) {
                    long[] a = e.getValue();
                    for (int i = 0; i < 5; i++) {
                        ps.setLong(i + 1, a[i]);
                    }
                    ps.setString(6, e.getKey());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            if (outbox && !accepted.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO outbox (batch_id, line_no) VALUES (?, ?)")) {
                    for (RequestCompletion rc : accepted) {
                        ps.setString(1, rc.batchId());
                        ps.setInt(2, rc.lineNo());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            Set<String> ready = new LinkedHashSet<>();
            if (!perBatch.isEmpty()) {
                List<Object> ids = new ArrayList<>(perBatch.keySet());
                String in = String.join(",", Collections.nCopies(ids.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM batches WHERE id IN (" + in + ") AND "
                        + "(status = 'cancelling' OR (status = 'in_progress' AND (stop_reason IS NOT NULL "
                        + "OR completed + failed = total)))")) {
                    bind(ps, ids);
                    ready.addAll(ids(ps));
                }
            }
            return new CompletionResult(accepted, ready);
        });
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 4000);
    }

    // ---------------------------------------------------------------- outbox

    @Override
    public List<OutboxEvent> pollOutbox(int max) {
        return tx(c -> {
            List<OutboxEvent> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT o.id, o.batch_id, o.line_no, r.custom_id, r.status_code, "
                    + "r.result_body, r.error_code, r.error_message, r.prompt_tokens, r.completion_tokens, r.cached_tokens "
                    + "FROM outbox o LEFT JOIN requests r ON r.batch_id = o.batch_id AND r.line_no = o.line_no "
                    + "ORDER BY o.id LIMIT ?")) {
                ps.setInt(1, max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        String batchId = rs.getString(2);
                        rs.getInt(3);
                        if (rs.wasNull()) {
                            out.add(new OutboxEvent(id, null, batchOutcome(c, batchId)));
                        } else {
                            StoredResult r = result(rs, 5);
                            out.add(new OutboxEvent(id, new RequestOutcome(batchId, rs.getString(4), r.statusCode(),
                                    r.body(), r.errorCode(), r.usage()), null));
                        }
                    }
                }
            }
            return out;
        });
    }

    private static BatchOutcome batchOutcome(Connection c, String batchId) throws SQLException {
        Batch b = findBatch(c, batchId).orElseThrow().batch();
        return new BatchOutcome(b.id(), b.status().wire(), b.outputFileId(), b.errorFileId(),
                b.requestCounts().total(), b.requestCounts().completed(), b.requestCounts().failed());
    }

    @Override
    public void ackOutbox(List<Long> eventIds) {
        if (eventIds.isEmpty()) {
            return;
        }
        tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM outbox WHERE id = ?")) {
                for (long id : eventIds) {
                    ps.setLong(1, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void recordHandlerFailure(long eventId, String handler, String batchId, String customId, String error, long at) {
        tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO handler_failures (event_id, handler, batch_id, "
                    + "custom_id, error, failed_at) VALUES (?,?,?,?,?,?)")) {
                ps.setLong(1, eventId);
                ps.setString(2, handler);
                ps.setString(3, batchId);
                ps.setString(4, customId);
                ps.setString(5, truncate(error == null ? "(no message)" : error));
                ps.setLong(6, at);
                ps.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public long countHandlerFailures(String batchId) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM handler_failures WHERE batch_id = ?")) {
                ps.setString(1, batchId);
                return count(ps);
            }
        });
    }

    @Override
    public void probeWrite() {
        // Setting a column to itself still makes a new row version that the commit must write.
        tx(c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate("UPDATE schema_version SET applied_at = applied_at WHERE version = 1");
            }
        });
    }

    @Override
    public void close() {
        dataSource.close();
    }

    // ---------------------------------------------------------------- the loader

    /**
     * Loads a batch's rows in transactions of {@value #LOAD_CHUNK_ROWS} rows while the batch stays
     * {@code validating}, where nothing else looks at its rows (claims, finalization and counts only
     * look at batches past validation). No transaction is large: H2 recovers the large transaction
     * of a killed process badly (rows lost, "row not found in primary index", rows left behind that
     * make the next validation hit duplicate keys), and commits a large one for a long moment during
     * which other connections already see it.
     *
     * <p>The loader draws a fencing token and writes it to the batch row; each of its transactions
     * first locks the batch row and checks the token. A new loader (after a crash, or on a node that
     * started while another validated) takes the load over, deletes what the previous one stored,
     * and the previous one stops at its next transaction instead of mixing its rows in.
     */
    private final class JdbcRequestLoader implements RequestLoader {
        private final String batchId;
        private final long token;
        private final List<RequestRow> pending = new ArrayList<>(LOAD_CHUNK_ROWS);
        /** Whether this loader still holds the load: its token is on the batch, which is validating. */
        private boolean holding;
        private long total;
        private long preFailed;
        private boolean committed;
        private boolean closed;

        JdbcRequestLoader(String batchId) {
            this.batchId = batchId;
            this.token = tx(c -> {
                long t = nextToken(c);
                try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET load_token = ? WHERE id = ? "
                        + "AND status = 'validating'")) {
                    ps.setLong(1, t);
                    ps.setString(2, batchId);
                    return ps.executeUpdate() == 1 ? t : 0L;
                }
            });
            this.holding = token != 0;
            if (holding) {
                deleteRows(batchId, token); // what an interrupted load of this batch left
            }
        }

        @Override
        public void add(RequestRow row) {
            if (!holding) {
                return; // cancelled or taken over: commit will say so
            }
            pending.add(row);
            total++;
            if (row.preFailed() != null) {
                preFailed++;
            }
            if (pending.size() >= LOAD_CHUNK_ROWS) {
                holding = tx(c -> holdsLoad(c, true) && insertPending(c));
                pending.clear();
            }
        }

        @Override
        public boolean commit(String model, long at) {
            if (holding) {
                committed = tx(c -> {
                    if (!holdsLoad(c, true) || !insertPending(c)) {
                        return false;
                    }
                    try (PreparedStatement ps = c.prepareStatement("UPDATE batches SET status = 'in_progress', "
                            + "in_progress_at = ?, model = ?, total = ?, failed = ?, load_token = NULL "
                            + "WHERE id = ? AND status = 'validating' AND load_token = ?")) {
                        ps.setLong(1, at);
                        ps.setString(2, model);
                        ps.setLong(3, total);
                        ps.setLong(4, preFailed);
                        ps.setString(5, batchId);
                        ps.setLong(6, token);
                        return ps.executeUpdate() == 1;
                    }
                });
            }
            pending.clear();
            holding = false;
            close();
            return committed;
        }

        /** Inserts the pending rows; true (so that callers can chain it). */
        private boolean insertPending(Connection c) throws SQLException {
            if (pending.isEmpty()) {
                return true;
            }
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO requests (batch_id, line_no, custom_id, "
                    + "body_offset, body_length, state, status_code, result_body, error_code, error_message, "
                    + "prompt_tokens, completion_tokens, cached_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,0,0,0)")) {
                for (RequestRow row : pending) {
                    insert.setString(1, batchId);
                    insert.setInt(2, row.lineNo());
                    insert.setString(3, row.customId());
                    insert.setLong(4, row.bodyOffset());
                    insert.setInt(5, row.bodyLength());
                    StoredResult f = row.preFailed();
                    insert.setInt(6, f == null ? 0 : 2);
                    if (f == null) {
                        insert.setNull(7, Types.INTEGER);
                    } else {
                        insert.setInt(7, f.statusCode());
                    }
                    insert.setString(8, f == null ? null : f.body());
                    insert.setString(9, f == null ? null : f.errorCode());
                    insert.setString(10, f == null ? null : f.errorMessage());
                    insert.addBatch();
                }
                insert.executeBatch();
            }
            return true;
        }

        /** Locks the batch row; whether this loader's token is on it (and it is validating, if asked). */
        private boolean holdsLoad(Connection c, boolean validating) throws SQLException {
            return loadTokenMatches(c, batchId, token, validating);
        }

        /** Unless committed, deletes the rows this loader stored, as long as it is still the batch's loader. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            pending.clear();
            if (!committed && token != 0) {
                deleteRows(batchId, token);
            }
        }
    }

    @Override
    public void discardRequests(String batchId) {
        deleteRows(batchId, 0);
    }

    /**
     * Deletes a batch's request rows, {@value #LOAD_CHUNK_ROWS} per transaction; with a non-zero
     * {@code loadToken}, only while that token is on the batch row (a loader cleaning up after itself
     * must not delete the rows of the loader that took over).
     */
    private void deleteRows(String batchId, long loadToken) {
        int deleted;
        do {
            deleted = tx(c -> {
                if (loadToken != 0 && !loadTokenMatches(c, batchId, loadToken, false)) {
                    return 0;
                }
                int first;
                try (PreparedStatement ps = c.prepareStatement("SELECT MIN(line_no) FROM requests WHERE batch_id = ?")) {
                    ps.setString(1, batchId);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        first = rs.getInt(1);
                        if (rs.wasNull()) {
                            return 0;
                        }
                    }
                }
                // A range of line numbers holds at most as many rows (rows are lines of the file).
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM requests WHERE batch_id = ? "
                        + "AND line_no >= ? AND line_no < ?")) {
                    ps.setString(1, batchId);
                    ps.setInt(2, first);
                    ps.setInt(3, first + LOAD_CHUNK_ROWS);
                    return ps.executeUpdate();
                }
            });
        } while (deleted > 0);
    }

    /** Locks the batch row (so that a takeover waits for this transaction); whether {@code loadToken} is on it. */
    private static boolean loadTokenMatches(Connection c, String batchId, long loadToken, boolean validating)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT status, load_token FROM batches WHERE id = ? FOR UPDATE")) {
            ps.setString(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(2) == loadToken
                        && (!validating || BatchStatus.VALIDATING.wire().equals(rs.getString(1)));
            }
        }
    }

    private long nextToken(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + dialect.nextToken())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static StoredResult result(ResultSet rs, int first) throws SQLException {
        TokenUsage usage = new TokenUsage(rs.getLong(first + 4), rs.getLong(first + 5), rs.getLong(first + 6));
        return new StoredResult(rs.getInt(first), rs.getString(first + 1), rs.getString(first + 2),
                rs.getString(first + 3), usage);
    }

    private static int update(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            return ps.executeUpdate();
        }
    }

    private static List<String> ids(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            return ids(ps);
        }
    }

    private static List<String> ids(PreparedStatement ps) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static long count(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            Object a = args.get(i);
            if (a instanceof Integer n) {
                ps.setInt(i + 1, n);
            } else {
                ps.setString(i + 1, (String) a);
            }
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }

    private static Long getLong(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : v;
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T parse(String s, TypeReference<T> type) {
        try {
            return JSON.readValue(s, type);
        } catch (JsonProcessingException e) {
            throw new StoreException("corrupt JSON in the job store: " + e.getMessage(), e);
        }
    }
}
