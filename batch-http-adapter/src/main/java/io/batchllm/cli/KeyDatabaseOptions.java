package io.batchllm.cli;

import io.batchllm.BatchService;
import io.batchllm.store.JdbcJobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * Where {@code batchllm keys} finds the keys: the job store database of a data directory (embedded H2)
 * or a PostgreSQL database, the same one {@code serve} uses. Opening it creates or upgrades the schema.
 */
final class KeyDatabaseOptions {
    /** {@code H2}'s file for a data directory, as {@link JdbcJobStore#h2} names it. */
    static final String H2_FILE = "batchllm.mv.db";
    /** Two connections: the commands run one statement at a time. */
    private static final int POOL_SIZE = 2;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "The data directory of the server whose keys these are (its embedded H2 database). "
                    + "Default: ./batchllm-data, as for serve.")
    Path dataDir;

    @Option(names = "--db-url", paramLabel = "JDBC",
            description = "A PostgreSQL (jdbc:postgresql://…) or H2 (jdbc:h2:…) database instead of the data "
                    + "directory's; it wins over --data-dir, as for serve.")
    String dbUrl;

    @Option(names = "--db-user", paramLabel = "USER", defaultValue = "${env:BATCHLLM_DB_USER}",
            description = "The database user for --db-url. Default: environment variable BATCHLLM_DB_USER.")
    String dbUser;

    @Option(names = "--db-password", paramLabel = "PASSWORD", defaultValue = "${env:BATCHLLM_DB_PASSWORD}",
            description = "The database password for --db-url. Default: environment variable BATCHLLM_DB_PASSWORD "
                    + "(prefer it: a password on the command line is visible to other users in the process list).")
    String dbPassword;

    /**
     * Opens the database.
     *
     * @param mustExist whether an embedded database must already be there (listing or revoking keys in a
     *     directory without one is a mistaken --data-dir, not an empty list)
     * @throws UsageException for an unsupported --db-url or a data directory without a database
     * @throws DatabaseUnavailableException when the database cannot be opened
     */
    JdbcJobStore open(boolean mustExist) {
        if (dbUrl != null) {
            if (!dbUrl.startsWith("jdbc:postgresql:") && !dbUrl.startsWith("jdbc:h2:")) {
                throw new UsageException("unsupported --db-url '" + dbUrl + "': use jdbc:postgresql://HOST/DB or jdbc:h2:…");
            }
            return opened(dbUrl, () -> JdbcJobStore.open(dbUrl, dbUser, dbPassword, POOL_SIZE));
        }
        Path dir = dataDir != null ? dataDir : BatchService.Builder.DEFAULT_DATA_DIRECTORY;
        if (mustExist && !Files.exists(dir.resolve(H2_FILE))) {
            throw new UsageException("no BatchLLM database in " + dir.toAbsolutePath() + " (no " + H2_FILE
                    + "): give the --data-dir of the server, or --db-url");
        }
        return opened(dir.toAbsolutePath().toString(), () -> JdbcJobStore.h2(dir));
    }

    static JdbcJobStore opened(String where, Supplier<JdbcJobStore> open) {
        try {
            return open.get();
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            // H2 in file mode admits one process at a time; a running server holds the file.
            String hint = message.contains("already in use")
                    ? ": a running 'batchllm serve' holds this H2 database; stop it, run the keys command, then start "
                            + "it again (or use PostgreSQL with --db-url, which any number of processes share)"
                    : "";
            throw new DatabaseUnavailableException("cannot open the key database " + where + ": " + message + hint, e);
        }
    }

    /** The database exists but cannot be used now: locked, unreachable, refused the login. */
    static final class DatabaseUnavailableException extends RuntimeException {
        DatabaseUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
