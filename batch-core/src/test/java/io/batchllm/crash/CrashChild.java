package io.batchllm.crash;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The process {@link CrashRecoveryTest} kills: runs a batch slowly and never stops by itself.
 * Args: data directory, input file, execution log, in-flight bound.
 */
public final class CrashChild {
    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path input = Path.of(args[1]);
        Path log = Path.of(args[2]);
        int maxInFlight = Integer.parseInt(args[3]);
        BatchService service = BatchService.builder()
                .dataDirectory(dir)
                .backend(new RecordingBackend(log, 2_000, maxInFlight))
                .discoverPlugins(false)
                .maxInFlight(maxInFlight)
                .leaseDuration(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(20))
                .build();
        FileObject f = service.files().upload(input, FilePurpose.BATCH);
        Batch b = service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS);
        Files.writeString(dir.resolve("batch-id"), b.id());
        System.out.println("started " + b.id());
        Thread.sleep(Long.MAX_VALUE);
    }
}
