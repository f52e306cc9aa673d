package io.batchllm.cli;

import io.batchllm.BatchService;
import io.batchllm.testing.TestBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;

/** Runs the {@code batchllm} command line in-process on a service with the test backend. */
final class CliRun {
    final TestBackend backend;
    final AtomicReference<ServiceConfig> config = new AtomicReference<>();
    final RunBatchCommand command;
    /** When set, starting the service fails with it, as a backend that cannot load a model would. */
    volatile RuntimeException startFailure;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    CliRun(TestBackend backend, boolean terminal, Duration plainProgressInterval) {
        this.backend = backend;
        this.command = new RunBatchCommand(this::start, terminal, plainProgressInterval, Duration.ofMillis(20));
    }

    CliRun() {
        this(TestBackend.standard(), false, Progress.DEFAULT_PLAIN_INTERVAL);
    }

    private BatchService start(ServiceConfig c) {
        config.set(c);
        if (startFailure != null) {
            throw startFailure;
        }
        // The models the command asked for are recorded above; the test backend serves test-model instead.
        return BatchService.builder()
                .dataDirectory(c.dataDirectory())
                .backend(backend)
                .discoverPlugins(false)
                .pollInterval(Duration.ofMillis(20))
                .shutdownTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** Runs {@code args} and returns the exit code. */
    int execute(String... args) {
        CommandLine cl = BatchLlmCommand.commandLine(new CommandLine.IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == RunBatchCommand.class ? (K) command : CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }
}
