package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.store.JdbcJobStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code batchllm serve} through the real launcher: {@link Main} in a JVM without the Vector API
 * module, which starts the real server in a second JVM ({@link Relauncher}).
 */
class LauncherLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void killingTheLauncherWithSigkillStopsTheServerItStarted() throws Exception {
        // Regression: kill -9 of the launcher left the relaunched JVM serving and holding the data directory.
        try (ChildJvm launcher = ChildJvm.start(List.of(), Map.of(), Main.class, "serve", "--port", "0",
                "--auth", "none", "--data-dir", dir.resolve("data").toString())) {
            launcher.awaitLine(l -> l.contains("WARNING: --auth none"));
            List<ProcessHandle> children = launcher.process().toHandle().children().toList();
            assertEquals(1, children.size(), "the launcher runs the server in one child JVM");
            ProcessHandle server = children.getFirst();

            launcher.signal("KILL");
            assertTrue(launcher.process().waitFor(30, TimeUnit.SECONDS));
            server.onExit().get(60, TimeUnit.SECONDS);
            assertFalse(server.isAlive());
            assertTrue(launcher.output().contains("the launcher process " + launcher.pid() + " ended"),
                    launcher.output());
        }
    }

    @Test
    void aSecondServeOnADataDirectoryInUseSaysSoInOneLineAndExitsTwo() throws Exception {
        // Regression: it exited 3 with 63 lines of stack trace. The test holds the H2 database as a
        // running server would.
        Path data = dir.resolve("data");
        try (JdbcJobStore held = JdbcJobStore.h2(data);
             ChildJvm second = ChildJvm.start(List.of(), Map.of(), Main.class, "serve", "--port", "0",
                     "--auth", "none", "--data-dir", data.toString())) {
            assertEquals(ExitCodes.USAGE, second.awaitExit(), second.output());
            List<String> errors = second.output().lines().filter(l -> l.startsWith("err: batchllm:")).toList();
            assertEquals(1, errors.size(), second.output());
            assertTrue(errors.getFirst().contains("is in use by another process"), errors.getFirst());
            assertFalse(second.output().contains("\tat "), "no stack trace: " + second.output());
        }
    }
}
