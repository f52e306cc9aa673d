package io.batchllm.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges across a fixed set of threads: the calling thread takes the first chunk and
 * {@code threads - 1} persistent workers take the rest, so no thread or task is created per call.
 *
 * <p><b>Why not a thread pool.</b> A step issues about a hundred parallel regions (seven matmuls and
 * attention per layer, the LM head), each only tens of microseconds to a few milliseconds long. Handing
 * a task to a parked pool worker costs a futex wake-up per region, and the caller then waits for the
 * worker to be scheduled while it runs its own chunk; at one sequence that latency is a sizeable part of
 * a 768×768 matmul. Here each worker spins on a region counter for a while after finishing a chunk
 * (regions follow each other closely within a step), and parks only when no work has come for about a
 * millisecond, so the pool costs nothing while the engine is idle. The caller likewise spins for its
 * workers to finish rather than parking.
 *
 * <p>Chunk bounds are the same pure function of {@code (n, chunks)} as before, so which thread runs a
 * range never changes any result (the kernels are batch invariant for any row split).
 *
 * <p>Not thread safe: one forward pass uses it at a time (from any one thread at a time).
 */
final class Parallel implements AutoCloseable {

    /**
     * Below this many multiply-adds per chunk a range is not split: even a spinning hand-off costs
     * around a microsecond, which is more than a tiny matmul (stories260K's are 64×64) takes.
     */
    static final long MIN_WORK_PER_CHUNK = 16_384;

    /** How many {@link Thread#onSpinWait()} rounds an idle worker waits before parking (about 1 ms). */
    private static final int SPINS_BEFORE_PARK = 1 << 14;

    /** The work for one chunk: indexes {@code [start, end)}; {@code chunk < threads()} picks per-thread scratch. */
    @FunctionalInterface
    interface RangeBody {
        void run(int chunk, int start, int end);
    }

    private final int threads;
    private final Thread[] workers;
    /** Set by a worker just before it parks, so that the caller knows to unpark it. */
    private final AtomicInteger[] parked;
    private final Throwable[] failures;
    private final AtomicInteger remaining = new AtomicInteger();

    // The current region; written before the ticket is bumped, so the volatile write publishes them.
    private RangeBody body;
    private int n;
    /**
     * A region counter (high bits) and the region's chunk count (low 16 bits) in one volatile word: a
     * worker that is not needed for a region decides so from the ticket alone, because the caller does
     * not wait for it and may already be writing the next region's {@code body} and {@code n}.
     */
    private volatile long ticket;
    private volatile boolean closed;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, is " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicInteger[threads];
        this.failures = new Throwable[threads];
        for (int c = 1; c < threads; c++) {
            int chunk = c;
            parked[c] = new AtomicInteger();
            Thread t = new Thread(() -> workLoop(chunk), "batchllm-cpu-" + (c - 1));
            t.setDaemon(true);
            workers[c - 1] = t;
            t.start();
        }
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
        this.body = body;
        this.n = n;
        remaining.set(chunks - 1);
        ticket = ((ticket >>> 16) + 1) << 16 | chunks;
        for (int c = 1; c < chunks; c++) {
            if (parked[c].get() != 0) {
                LockSupport.unpark(workers[c - 1]);
            }
        }
        Throwable failure = null;
        try {
            body.run(0, 0, bound(n, chunks, 1));
        } catch (Throwable t) {
            failure = t;
        }
        // Always wait for every chunk: they write into shared scratch that the next call reuses.
        while (remaining.get() != 0) {
            Thread.onSpinWait();
        }
        this.body = null;
        for (int c = 1; c < chunks; c++) {
            if (failures[c] != null) {
                if (failure == null) {
                    failure = failures[c];
                } else {
                    failure.addSuppressed(failures[c]);
                }
                failures[c] = null;
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

    private void workLoop(int chunk) {
        long seen = 0;
        while (true) {
            long g = awaitTicket(chunk, seen);
            if (closed) {
                return;
            }
            seen = g;
            int count = (int) (g & 0xFFFF);
            if (chunk >= count) {
                continue; // this region was split into fewer chunks; nothing to do or to count down
            }
            try {
                body.run(chunk, bound(n, count, chunk), bound(n, count, chunk + 1));
            } catch (Throwable t) {
                failures[chunk] = t;
            }
            remaining.decrementAndGet();
        }
    }

    /** Spins, then parks, until the ticket moves past {@code seen} or the pool closes. */
    private long awaitTicket(int chunk, long seen) {
        for (int spin = 0; spin < SPINS_BEFORE_PARK; spin++) {
            long g = ticket;
            if (g != seen || closed) {
                return g;
            }
            Thread.onSpinWait();
        }
        while (true) {
            // Announce before the re-check: either the caller sees the flag and unparks, or this
            // thread sees the new ticket (both are volatile accesses, so one of them must).
            parked[chunk].set(1);
            long g = ticket;
            if (g != seen || closed) {
                parked[chunk].set(0);
                return g;
            }
            LockSupport.park(this);
            parked[chunk].set(0);
        }
    }

    private static int bound(int n, int chunks, int c) {
        return (int) ((long) n * c / chunks);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
