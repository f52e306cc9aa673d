package io.batchllm.cli;

import io.batchllm.BatchService;
import java.time.Duration;
import picocli.CommandLine;

/**
 * {@code batchllm} as {@link Main} runs it, with {@code run-batch} on a {@link SlowBackend} (two
 * requests at a time, 100 ms each), so that a test can signal it mid-batch. Plain progress lines every
 * 50 ms tell the test how far it got.
 */
public final class RunBatchChild {
    private RunBatchChild() {
    }

    public static void main(String[] args) {
        ServiceFactory slow = config -> BatchService.builder()
                .dataDirectory(config.dataDirectory())
                .backend(new SlowBackend(2, 100))
                .discoverPlugins(false)
                .pollInterval(Duration.ofMillis(20))
                .build();
        RunBatchCommand command = new RunBatchCommand(slow, false, Duration.ofMillis(50), Duration.ofMillis(20));
        System.exit(execute(RunBatchCommand.class, command, args));
    }

    /** Runs the command line with {@code command} as the instance of its class. */
    static <C> int execute(Class<C> commandClass, C command, String[] args) {
        CommandLine cl = BatchLlmCommand.commandLine(new CommandLine.IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == commandClass ? (K) command : CommandLine.defaultFactory().create(cls);
            }
        });
        return BatchLlmCommand.withConfigDefaults(cl, args, System.getenv()).execute(args);
    }
}
