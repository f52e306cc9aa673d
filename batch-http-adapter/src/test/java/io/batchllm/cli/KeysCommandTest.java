package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.http.auth.ApiKeyAuthenticator;
import io.batchllm.http.auth.AuthenticationException;
import io.batchllm.http.auth.JdbcApiKeyStore;
import io.batchllm.http.auth.Principal;
import io.batchllm.http.auth.Role;
import io.batchllm.store.JdbcJobStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KeysCommandTest {
    private static final Pattern KEY = Pattern.compile("sk-batchllm-([0-9a-f]{16})-[A-Za-z0-9_-]{43}");

    @TempDir
    Path dir;
    private StringWriter out;
    private StringWriter err;

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** Authenticates as the server would, on a fresh authenticator (no cache from before). */
    private Principal authenticate(String key) {
        try (JdbcJobStore store = JdbcJobStore.h2(dir)) {
            return new ApiKeyAuthenticator(JdbcApiKeyStore.on(store.dataSource()), Duration.ZERO, Clock.systemUTC())
                    .authenticate("Bearer " + key);
        }
    }

    @Test
    void createListRevokeRoundTrip() {
        String data = dir.toString();

        assertEquals(0, run("keys", "create", "--tenant", "acme", "--role", "member", "--data-dir", data), err());
        String key = out.toString().strip();
        assertEquals(key + System.lineSeparator(), out.toString(), "stdout holds the key alone");
        var m = KEY.matcher(key);
        assertTrue(m.matches(), key);
        String id = m.group(1);
        assertTrue(err.toString().contains("Created API key " + id), err());
        assertEquals(new Principal(id, "acme", Role.MEMBER), authenticate(key));

        assertEquals(0, run("keys", "create", "--tenant", "globex", "--role", "READER", "--data-dir", data), err());
        String other = out.toString().strip();

        assertEquals(0, run("keys", "list", "--data-dir", data), err());
        List<String> lines = out.toString().lines().toList();
        assertEquals(3, lines.size(), out.toString());
        assertTrue(lines.get(0).matches("ID\\s+TENANT\\s+ROLE\\s+CREATED\\s+REVOKED"), lines.get(0));
        String acme = lines.stream().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
        assertTrue(acme.matches(id + "\\s+acme\\s+member\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+-"), acme);
        String otherId = KEY.matcher(other).replaceAll("$1");
        String globex = lines.stream().filter(l -> l.startsWith(otherId)).findFirst().orElseThrow();
        assertTrue(globex.matches(otherId + "\\s+globex\\s+reader\\s+\\S+Z\\s+-"), globex);
        assertFalse(out.toString().contains(key.substring(29)), "list shows no secret");
        assertFalse(out.toString().contains(other.substring(29)), "list shows no secret");

        assertEquals(0, run("keys", "revoke", id, "--data-dir", data), err());
        assertTrue(err.toString().contains("Revoked API key " + id), err());
        assertThrows(AuthenticationException.class, () -> authenticate(key));
        assertEquals("globex", authenticate(other).tenant());

        assertEquals(0, run("keys", "list", "--data-dir", data), err());
        String revokedLine = out.toString().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
        assertTrue(revokedLine.matches(id + "\\s+acme\\s+member\\s+\\S+Z\\s+\\d{4}-\\S+Z"), revokedLine);

        assertEquals(0, run("keys", "revoke", id, "--data-dir", data), err());
        assertTrue(err.toString().contains("already revoked"), err());
    }

    @Test
    void revokingAnUnknownIdExitsWithOne() {
        run("keys", "create", "--tenant", "acme", "--role", "admin", "--data-dir", dir.toString());

        assertEquals(KeysCommand.NOT_FOUND, run("keys", "revoke", "0123456789abcdef", "--data-dir", dir.toString()));
        assertTrue(err.toString().contains("no API key has the id '0123456789abcdef'"), err());
    }

    @Test
    void revokeWantsTheIdNotTheKey() {
        run("keys", "create", "--tenant", "acme", "--role", "admin", "--data-dir", dir.toString());
        String key = out.toString().strip();

        assertEquals(ExitCodes.USAGE, run("keys", "revoke", key, "--data-dir", dir.toString()));
        assertTrue(err.toString().contains("not the whole key"), err());
        assertEquals("acme", authenticate(key).tenant());
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhatIsWrong() {
        String data = dir.toString();
        assertEquals(ExitCodes.USAGE, run("keys", "create", "--tenant", "acme", "--role", "boss", "--data-dir", data));
        assertTrue(err.toString().contains("--role"), err());
        assertEquals(ExitCodes.USAGE, run("keys", "create", "--role", "admin", "--data-dir", data));
        assertTrue(err.toString().contains("--tenant"), err());
        assertEquals(ExitCodes.USAGE, run("keys", "create", "--tenant", "a b", "--role", "admin", "--data-dir", data));
        assertTrue(err.toString().contains("white space"), err());
        assertEquals(ExitCodes.USAGE, run("keys", "create", "--tenant", "a", "--role", "admin", "--db-url",
                "jdbc:mysql://db/x"));
        assertTrue(err.toString().contains("unsupported --db-url 'jdbc:mysql://db/x'"), err());
        assertEquals(ExitCodes.USAGE, run("keys"));
        assertTrue(err.toString().contains("create, list or revoke"), err());
        assertEquals("", out.toString(), "nothing on stdout when nothing was created");
    }

    @Test
    void listingADirectoryWithoutADatabaseIsAMistakeNotAnEmptyList() {
        assertEquals(ExitCodes.USAGE, run("keys", "list", "--data-dir", dir.resolve("nope").toString()));
        assertTrue(err.toString().contains("no BatchLLM database"), err());
    }

    @Test
    void dbUrlWinsOverDataDirAsForServe() {
        String url = "jdbc:h2:file:" + dir.resolve("shared").toAbsolutePath();
        assertEquals(0, run("keys", "create", "--tenant", "acme", "--role", "admin", "--db-url", url,
                "--data-dir", dir.resolve("ignored").toString()), err());
        String id = KEY.matcher(out.toString().strip()).replaceAll("$1");

        assertEquals(0, run("keys", "list", "--db-url", url), err());
        assertTrue(out.toString().contains(id), out.toString());
        assertFalse(Files.exists(dir.resolve("ignored").resolve(KeyDatabaseOptions.H2_FILE)));
    }

    @Test
    void anUnreachableDatabaseExitsWithFourAndNamesIt() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/batchllm";

        assertEquals(KeysCommand.DATABASE_UNAVAILABLE, run("keys", "list", "--db-url", url, "--db-user", "u"));
        assertTrue(err.toString().contains("cannot open the key database " + url), err());
    }

    @Test
    void anH2FileHeldByARunningServerGetsAHintToStopIt() {
        KeyDatabaseOptions.DatabaseUnavailableException e = assertThrows(
                KeyDatabaseOptions.DatabaseUnavailableException.class,
                () -> KeyDatabaseOptions.opened("/srv/data", () -> {
                    // HikariCP's wording around H2's error 90020 when another process holds the file.
                    throw new IllegalStateException("Failed to initialize pool: Database may be already in use: "
                            + "\"/srv/data/batchllm.mv.db\". Possible solutions: close all other connection(s)");
                }));
        assertTrue(e.getMessage().contains("a running 'batchllm serve' holds this H2 database"), e.getMessage());
    }

    @Test
    void helpDocumentsTheExitCodes() {
        assertEquals(0, run("keys", "--help"));
        assertTrue(out.toString().contains("4   the database cannot be opened"), out.toString());
        assertEquals(0, run("keys", "create", "--help"));
        assertTrue(out.toString().contains("--tenant=TENANT"), out.toString());
    }

    private String err() {
        return err.toString();
    }
}
