package io.batchllm.crash;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The process {@link ValidationCrashTest} kills: creates a batch and prints each status it is shown
 * (with its request counts) as soon as it sees it, so that the parent can kill it right after a
 * client was shown a status past {@code validating}. Args: data directory, input file.
 */
public final class ValidationCrashChild {
    private ValidationCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        BatchService service = BatchService.builder()
                .dataDirectory(dir)
                .backend(new RecordingBackend(dir.resolve("executed.log"), 0, 8))
                .discoverPlugins(false)
                .pollInterval(Duration.ofMillis(20))
                .build();
        FileObject f = service.files().upload(Path.of(args[1]), FilePurpose.BATCH);
        Batch b = service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS);
        Files.writeString(dir.resolve("batch-id"), b.id());
        BatchStatus shown = null;
        while (true) {
            Batch now = service.batches().get(b.id());
            if (now.status() != shown) {
                shown = now.status();
                System.out.println("shown " + shown.wire() + " " + now.requestCounts().total());
                System.out.flush();
            }
            Thread.onSpinWait();
        }
    }
}
