package io.batchllm.samples;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;

/** The README's embedding example: one batch in, its output file out. */
public final class EmbeddingExample {
    private EmbeddingExample() {
    }

    /** Runs {@code requests} as one batch on {@code service} and copies the output file to {@code out}. */
    public static Batch run(BatchService service, Path requests, OutputStream out) throws Exception {
        FileObject input = service.files().upload(requests, FilePurpose.BATCH);
        Batch batch = service.batches().create(input.id(), Endpoint.CHAT_COMPLETIONS);
        Batch done = service.batches().await(batch.id(), Duration.ofHours(1));
        if (done.outputFileId() != null) {
            try (InputStream results = service.files().content(done.outputFileId())) {
                results.transferTo(out);
            }
        }
        return done;
    }

    /** Usage: EmbeddingExample REQUESTS.jsonl MODEL.gguf [MODEL_NAME] */
    public static void main(String[] args) throws Exception {
        try (BatchService service = BatchService.builder()
                .dataDirectory(Path.of("batchllm-data"))
                .model(args.length > 2 ? args[2] : "demo", Path.of(args[1]))
                .build()) {
            Batch done = run(service, Path.of(args[0]), System.out);
            System.err.println("batch " + done.id() + ": " + done.status().wire() + ", " + done.requestCounts());
        }
    }
}
