package io.batchllm.cli;

import io.batchllm.cli.KeyDatabaseOptions.DatabaseUnavailableException;
import io.batchllm.http.auth.ApiKey;
import io.batchllm.http.auth.ApiKeyInfo;
import io.batchllm.http.auth.IssuedApiKey;
import io.batchllm.http.auth.JdbcApiKeyStore;
import io.batchllm.http.auth.Role;
import io.batchllm.http.auth.StoredApiKey;
import io.batchllm.store.JdbcJobStore;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code batchllm keys create|list|revoke}: manages the API keys that {@code serve --auth keys}
 * accepts, in the server's database. Keys are stored as hashes; {@code create} prints the new key
 * once, alone on stdout, so that a script can capture it.
 */
@Command(name = "keys",
        mixinStandardHelpOptions = true,
        description = {"Creates, lists and revokes the API keys of the HTTP server (serve --auth keys).",
                "Keys live in the server's database, as hashes only: a key is shown once, when it is created."},
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:done",
                "1:revoke: no key has this id",
                "2:bad usage: unknown option, bad tenant or role, an unsupported --db-url, no database in --data-dir",
                "3:internal error",
                "4:the database cannot be opened (a running server holds the H2 file, PostgreSQL is unreachable or "
                        + "refused the login)"})
final class KeysCommand implements Runnable {
    /** {@code revoke} of an id that no key has. */
    static final int NOT_FOUND = 1;
    /** The database exists but cannot be opened now. */
    static final int DATABASE_UNAVAILABLE = 4;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "Missing command: create, list or revoke (try 'batchllm keys --help').");
    }

    /** Runs {@code work} on the key store, answering {@value #DATABASE_UNAVAILABLE} when the database cannot be opened. */
    static int withStore(CommandSpec spec, KeyDatabaseOptions db, boolean mustExist, Function<JdbcApiKeyStore, Integer> work) {
        JdbcJobStore store;
        try {
            store = db.open(mustExist);
        } catch (DatabaseUnavailableException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("batchllm: " + e.getMessage());
            err.flush();
            return DATABASE_UNAVAILABLE;
        }
        try (store) {
            return work.apply(JdbcApiKeyStore.on(store.dataSource()));
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Creates an API key and prints it, alone, on stdout. Only its hash is stored, so it "
                    + "cannot be shown again: keep it now.", "The key's id (shown by 'keys list', used by 'keys revoke') is "
                    + "the 16 hex digits after sk-batchllm-."},
            footerHeading = "%nExample:%n",
            footer = "  KEY=$(batchllm keys create --tenant acme --role member)")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "TENANT",
                description = "The tenant whose files and batches the key reaches (1 to 256 characters, no spaces).")
        String tenant;

        @Option(names = "--role", required = true, paramLabel = "admin|member|reader",
                description = "admin: everything, all tenants; member: its tenant's files and batches; reader: "
                        + "read-only.")
        Role role;

        @Mixin
        KeyDatabaseOptions db;

        @Override
        public Integer call() {
            return withStore(spec, db, false, keys -> {
                IssuedApiKey issued;
                try {
                    issued = keys.create(tenant, role);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--tenant: " + e.getMessage());
                }
                PrintWriter out = spec.commandLine().getOut();
                out.println(issued.token());
                out.flush();
                PrintWriter err = spec.commandLine().getErr();
                err.println("Created API key " + issued.info().id() + " for tenant " + tenant + ", role "
                        + name(role) + ". It is shown only this once.");
                err.flush();
                return 0;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists every key, revoked ones included: id, tenant, role, creation and revocation time "
                    + "(UTC). Never the key itself.")
    static final class ListKeys implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KeyDatabaseOptions db;

        @Override
        public Integer call() {
            return withStore(spec, db, true, keys -> {
                List<ApiKeyInfo> all = keys.list();
                int tenantWidth = Math.max("TENANT".length(),
                        all.stream().mapToInt(k -> k.tenant().length()).max().orElse(0));
                String row = "%-16s  %-" + tenantWidth + "s  %-6s  %-20s  %s%n";
                PrintWriter out = spec.commandLine().getOut();
                out.printf(row, "ID", "TENANT", "ROLE", "CREATED", "REVOKED");
                for (ApiKeyInfo k : all) {
                    out.printf(row, k.id(), k.tenant(), name(k.role()), k.createdAt(),
                            k.revoked() ? k.revokedAt().toString() : "-");
                }
                out.flush();
                return 0;
            });
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = {"Revokes a key: requests with it get 401. A running server notices within "
                    + "10 seconds (it caches verified keys that long).",
                    "Revoking a revoked key changes nothing."})
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "KEY_ID", description = "The key's id, as 'keys list' shows it.")
        String id;

        @Mixin
        KeyDatabaseOptions db;

        @Override
        public Integer call() {
            if (id.startsWith(ApiKey.PREFIX)) {
                throw new UsageException("give the key's id (the 16 hex digits after " + ApiKey.PREFIX
                        + "), not the whole key");
            }
            return withStore(spec, db, true, keys -> {
                Optional<ApiKeyInfo> before = keys.find(id).map(StoredApiKey::info);
                Optional<ApiKeyInfo> after = keys.revoke(id);
                PrintWriter err = spec.commandLine().getErr();
                if (after.isEmpty()) {
                    err.println("batchllm: no API key has the id '" + id + "'; 'batchllm keys list' shows the ids");
                    err.flush();
                    return NOT_FOUND;
                }
                ApiKeyInfo k = after.get();
                Instant revokedAt = k.revokedAt();
                err.println(before.isPresent() && before.get().revoked()
                        ? "API key " + id + " was already revoked at " + revokedAt + "."
                        : "Revoked API key " + id + " (tenant " + k.tenant() + ", role " + name(k.role()) + ").");
                err.flush();
                return 0;
            });
        }
    }

    private static String name(Role role) {
        return role.name().toLowerCase(Locale.ROOT);
    }
}
