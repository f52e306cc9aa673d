package io.batchllm.bench;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * End-to-end orchestration throughput: a 50,000-line batch through store → worker → results →
 * output file with a backend that answers instantly, so every second measured is the service's own
 * cost. Timed from batch creation to {@code completed} (validation, claims, result commits,
 * finalization and the output file all included).
 *
 * <pre>mvn -q -pl batch-core exec:exec \
 *   -Dexec.args="-Xmx1g -cp %classpath io.batchllm.bench.ThroughputBench"</pre>
 */
public final class ThroughputBench {
    public static void main(String[] args) throws Exception {
        int lines = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        Path work = Files.createTempDirectory("batchllm-throughput-bench");
        Path input = BenchSupport.requestFile(work, lines, 300);
        double[] rps = new double[runs];
        for (int run = -1; run < runs; run++) {
            Path data = work.resolve("data" + run);
            try (BatchService service = BatchService.builder().dataDirectory(data)
                    .backend(TestBackend.zeroCost(inFlight)).discoverPlugins(false)
                    .pollInterval(Duration.ofMillis(5)).build()) {
                FileObject f = service.files().upload(input, FilePurpose.BATCH);
                long t0 = System.nanoTime();
                Batch b = service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS);
                Batch done = service.batches().await(b.id(), Duration.ofMinutes(10));
                long t1 = System.nanoTime();
                if (done.status() != BatchStatus.COMPLETED || done.requestCounts().completed() != lines) {
                    throw new IllegalStateException("unexpected state " + done);
                }
                double secs = (t1 - t0) / 1e9;
                if (run >= 0) {
                    rps[run] = lines / secs;
                }
                System.out.printf("%s: %,d requests in %.2f s = %,.0f requests/s (validation %d s, run %d s, final %d s)%n",
                        run < 0 ? "warm-up" : "run " + (run + 1), lines, secs, lines / secs,
                        done.inProgressAt() - done.createdAt(), done.finalizingAt() - done.inProgressAt(),
                        done.completedAt() - done.finalizingAt());
            }
            BenchSupport.deleteTree(data);
        }
        System.out.printf("RESULT end-to-end: median %,.0f requests/s over %d runs (in-flight bound %d, %d cores)%n",
                BenchSupport.median(rps), runs, inFlight, Runtime.getRuntime().availableProcessors());
        BenchSupport.deleteTree(work);
    }
}
