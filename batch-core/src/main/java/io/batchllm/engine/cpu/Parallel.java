package io.batchllm.engine.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Splits index ranges across a fixed pool: the calling thread takes the first chunk and
 * {@code threads - 1} pooled workers take the rest, so no thread is created per call.
 *
 * <p>Not thread safe: one forward pass uses it at a time.
 */
final class Parallel implements AutoCloseable {

    /**
     * Below this many multiply-adds per chunk a range is not split: handing work to a parked worker
     * costs a few microseconds, which is more than a tiny matmul (stories260K's are 64×64) takes.
     */
    static final long MIN_WORK_PER_CHUNK = 16_384;

    /** The work for one chunk: indexes {@code [start, end)}; {@code chunk < threads()} picks per-thread scratch. */
    @FunctionalInterface
    interface RangeBody {
        void run(int chunk, int start, int end);
    }

    private final int threads;
    private final ForkJoinPool pool;
    private final ForkJoinTask<?>[] pending;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, is " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1, Parallel::newWorker, null, false);
        this.pending = new ForkJoinTask<?>[threads];
    }

    private static ForkJoinWorkerThread newWorker(ForkJoinPool pool) {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("batchllm-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in up to {@link #threads()} contiguous chunks and waits for
     * all of them. {@code workPerItem} (multiply-adds per index) decides whether splitting pays.
     */
    void forRange(int n, long workPerItem, RangeBody body) {
        long total = n * Math.max(1, workPerItem);
        int chunks = (int) Math.min(Math.min(threads, n), Math.max(1, total / MIN_WORK_PER_CHUNK));
        if (chunks <= 1) {
            body.run(0, 0, n);
            return;
        }
        for (int c = 1; c < chunks; c++) {
            int chunk = c;
            int start = bound(n, chunks, c);
            int end = bound(n, chunks, c + 1);
            pending[c] = pool.submit(() -> body.run(chunk, start, end));
        }
        Throwable failure = null;
        try {
            body.run(0, 0, bound(n, chunks, 1));
        } catch (Throwable t) {
            failure = t;
        }
        // Always wait for every chunk: they write into shared scratch that the next call reuses.
        for (int c = 1; c < chunks; c++) {
            try {
                pending[c].join();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            } finally {
                pending[c] = null;
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private static int bound(int n, int chunks, int c) {
        return (int) ((long) n * c / chunks);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
