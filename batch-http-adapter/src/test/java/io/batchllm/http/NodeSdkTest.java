package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.batchllm.Batch;
import io.batchllm.BatchStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official {@code openai} npm package (6.x) runs {@code src/test/node/sdk-flow.mjs} against the
 * server. {@code .ci/run} installs it ({@code npm ci}); without Node or the installed package the
 * test is skipped, saying which is missing.
 */
class NodeSdkTest {
    private static final Path SCRIPT_DIR = Path.of("src/test/node");

    @TempDir
    Path dir;

    @Test
    void theNodeSdkRunsTheWholeFlow() throws Exception {
        assumeTrue(nodeVersion() != null, "node is not installed: the Node SDK flow is not run");
        assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/openai")), "the openai npm package is not "
                + "installed: run 'npm ci' in batch-http-adapter/src/test/node (.ci/run does)");
        try (TestServer server = new TestServer(dir)) {
            ProcessBuilder pb = new ProcessBuilder("node", "sdk-flow.mjs")
                    .directory(SCRIPT_DIR.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("node.log").toFile());
            pb.environment().put("OPENAI_BASE_URL", server.base() + "/v1");
            pb.environment().remove("OPENAI_API_KEY");
            Process node = pb.start();
            // The flow cancels a batch whose line the test backend holds: let held lines finish once
            // their batch is cancelling, as a real backend's in-flight requests would.
            Thread releaser = Thread.ofVirtual().start(() -> releaseCancelledLines(server, node));
            boolean exited = node.waitFor(120, TimeUnit.SECONDS);
            releaser.interrupt();
            String log = Files.readString(dir.resolve("node.log"), StandardCharsets.UTF_8);
            if (!exited) {
                node.destroyForcibly();
            }
            assertEquals(0, exited ? node.exitValue() : -1, "sdk-flow.mjs failed:\n" + log);
        }
    }

    private static void releaseCancelledLines(TestServer server, Process node) {
        while (node.isAlive() && !Thread.currentThread().isInterrupted()) {
            for (Batch b : server.service.batches().list(null, 100).data()) {
                if (b.status() == BatchStatus.CANCELLING) {
                    server.backend.releaseHeld();
                }
            }
            try {
                node.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String nodeVersion() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? v : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }
}
