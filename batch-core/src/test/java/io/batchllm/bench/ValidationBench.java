package io.batchllm.bench;

import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.internal.InputValidator;
import io.batchllm.internal.ValidationLimits;
import io.batchllm.store.JobStore;
import io.batchllm.store.RequestRow;
import io.batchllm.testing.TestBackend;
import java.util.Set;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Validating and enqueuing a 50,000-line, ~100 MB batch file: upload, create, and the time until the
 * batch is {@code in_progress} (every line parsed, checked, and stored as a request row). Meant to run
 * in {@code -Xmx256m}: the file must never be held whole. Requests are held by the backend so that
 * execution does not compete with validation.
 *
 * <pre>mvn -q -pl batch-core exec:exec \
 *   -Dexec.args="-Xmx256m -cp %classpath io.batchllm.bench.ValidationBench"</pre>
 */
public final class ValidationBench {
    public static void main(String[] args) throws Exception {
        int lines = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int lineBytes = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path work = Files.createTempDirectory("batchllm-validation-bench");
        Path input = BenchSupport.requestFile(work, lines, lineBytes);
        long bytes = Files.size(input);
        System.out.printf("input: %,d lines, %,d bytes; max heap %,d MB%n", lines, bytes,
                Runtime.getRuntime().maxMemory() >> 20);
        double[] mbps = new double[runs];
        long peak = 0;
        for (int run = -1; run < runs; run++) { // run -1 is the warm-up
            Path data = work.resolve("data" + run);
            TestBackend backend = TestBackend.standard();
            backend.holdAll(true);
            try (BatchService service = BatchService.builder().dataDirectory(data).backend(backend)
                    .discoverPlugins(false).maxInFlight(1).pollInterval(Duration.ofMillis(5))
                    .shutdownTimeout(Duration.ZERO).build()) {
                System.gc();
                BenchSupport.resetPeakHeap();
                long t0 = System.nanoTime();
                FileObject f = service.files().upload(input, FilePurpose.BATCH);
                long t1 = System.nanoTime();
                Batch b = service.batches().create(f.id(), Endpoint.CHAT_COMPLETIONS);
                while (service.batches().get(b.id()).status() == BatchStatus.VALIDATING) {
                    Thread.sleep(2);
                }
                long t2 = System.nanoTime();
                Batch after = service.batches().get(b.id());
                if (after.status() != BatchStatus.IN_PROGRESS || after.requestCounts().total() != lines) {
                    throw new IllegalStateException("unexpected state " + after);
                }
                long runPeak = BenchSupport.peakHeapBytes();
                double secs = (t2 - t1) / 1e9;
                if (run >= 0) {
                    mbps[run] = bytes / 1e6 / secs;
                    peak = Math.max(peak, runPeak);
                }
                System.out.printf("%s: upload %.2f s, validate+enqueue %.2f s = %.1f MB/s, %,.0f lines/s, peak heap %d MB%n",
                        run < 0 ? "warm-up" : "run " + (run + 1), (t1 - t0) / 1e9, secs, bytes / 1e6 / secs,
                        lines / secs, runPeak >> 20);
                backend.holdAll(false);
            }
            BenchSupport.deleteTree(data);
        }
        System.out.printf("RESULT validate+enqueue: median %.1f MB/s over %d runs; peak heap %d MB (-Xmx%d MB)%n",
                BenchSupport.median(mbps), runs, peak >> 20, Runtime.getRuntime().maxMemory() >> 20);

        // The same validation with the rows thrown away: what reading and parsing alone cost, so the
        // share of the database in the figure above is visible.
        double[] parseOnly = new double[runs];
        for (int run = -1; run < runs; run++) {
            InputValidator v = new InputValidator("/v1/chat/completions",
                    new ValidationLimits(lines, Long.MAX_VALUE, 16 << 20), Set.of("test-model"));
            long t0 = System.nanoTime();
            InputValidator.Outcome o = v.validate(input, new DiscardingLoader());
            double secs = (System.nanoTime() - t0) / 1e9;
            if (!o.ok()) {
                throw new IllegalStateException(o.errors().toString());
            }
            if (run >= 0) {
                parseOnly[run] = bytes / 1e6 / secs;
            }
        }
        System.out.printf("RESULT read+parse+check only (no store): median %.1f MB/s over %d runs%n",
                BenchSupport.median(parseOnly), runs);
        BenchSupport.deleteTree(work);
    }

    /** A loader that keeps nothing. */
    private static final class DiscardingLoader implements JobStore.RequestLoader {
        @Override
        public void add(RequestRow row) {
        }

        @Override
        public boolean commit(String model, long at) {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
