package io.batchllm.cli;

import io.batchllm.BatchService;
import java.time.Duration;

/**
 * {@code batchllm serve} as {@link Main} runs it, on a {@link SlowBackend} (four requests at a time,
 * 200 ms each), so that a test can signal it while requests run. Prints {@code listening <port>}
 * once it serves.
 */
public final class ServeChild {
    private ServeChild() {
    }

    public static void main(String[] args) {
        ServeCommand command = new ServeCommand((config, url, user, password, registry) -> BatchService.builder()
                .dataDirectory(config.dataDirectory())
                .backend(new SlowBackend(4, 200))
                .discoverPlugins(false)
                .meterRegistry(registry)
                .pollInterval(Duration.ofMillis(20))
                .build(),
                server -> System.out.println("listening " + server.port()));
        System.exit(RunBatchChild.execute(ServeCommand.class, command, args));
    }
}
