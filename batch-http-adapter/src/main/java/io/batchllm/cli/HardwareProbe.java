package io.batchllm.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.IntToDoubleFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two hardware limits that bound {@code bench}'s figures, measured with the same Vector API the
 * CPU engine uses: peak F32 FMA throughput (the large-batch limit: 2·params FLOP per token) and
 * memory bandwidth, as a STREAM-like triad {@code a[i] = b[i] + s·c[i]} over arrays far larger than
 * any cache (the single-sequence limit: every weight byte is read once per step).
 *
 * <p>Each figure is the best of several rounds with all threads running at once.
 */
final class HardwareProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Triad array length per thread: 3 arrays × 32 Mi floats × 4 bytes = 384 MiB per thread. */
    private static final int TRIAD_FLOATS = 32 << 20;
    private static final int FMA_ITERATIONS = 50_000_000;
    private static final int ROUNDS = 5;

    private HardwareProbe() {
    }

    /** Peak FLOP/s of {@code threads} threads issuing independent vector FMAs. */
    static double peakFlops(int threads) {
        return best(threads, t -> {
            float[] seed = new float[F.length()];
            java.util.Arrays.fill(seed, 1e-3f * (t + 1));
            FloatVector m = FloatVector.fromArray(F, seed, 0);
            // Twelve independent chains: enough to cover FMA latency (4 cycles) on two FMA ports.
            FloatVector a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
            FloatVector s = FloatVector.broadcast(F, 0.999f);
            long start = System.nanoTime();
            for (int i = 0; i < FMA_ITERATIONS; i++) {
                a0 = a0.fma(s, m); a1 = a1.fma(s, m); a2 = a2.fma(s, m); a3 = a3.fma(s, m);
                a4 = a4.fma(s, m); a5 = a5.fma(s, m); a6 = a6.fma(s, m); a7 = a7.fma(s, m);
                a8 = a8.fma(s, m); a9 = a9.fma(s, m); a10 = a10.fma(s, m); a11 = a11.fma(s, m);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            float sink = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                    .reduceLanes(VectorOperators.ADD);
            if (sink == 42f) {
                System.err.print("");
            }
            return 2.0 * F.length() * 12 * FMA_ITERATIONS / seconds;
        });
    }

    /** Triad bytes moved per second (3 arrays × 4 bytes per element) by {@code threads} threads. */
    static double triadBandwidth(int threads) {
        float[][][] arrays = new float[threads][3][];
        for (int t = 0; t < threads; t++) {
            for (int k = 0; k < 3; k++) {
                arrays[t][k] = new float[TRIAD_FLOATS];
                java.util.Arrays.fill(arrays[t][k], k + 1);
            }
        }
        return best(threads, t -> {
            float[] a = arrays[t][0];
            float[] b = arrays[t][1];
            float[] c = arrays[t][2];
            int bound = F.loopBound(TRIAD_FLOATS);
            FloatVector half = FloatVector.broadcast(F, 0.5f);
            long start = System.nanoTime();
            for (int i = 0; i < bound; i += F.length()) {
                FloatVector.fromArray(F, c, i).fma(half, FloatVector.fromArray(F, b, i)).intoArray(a, i);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return 3.0 * 4 * bound / seconds;
        });
    }

    /** Best of {@link #ROUNDS} rounds of the sum of the threads' rates, all threads started together. */
    private static double best(int threads, IntToDoubleFunction work) {
        double best = 0;
        for (int r = 0; r < ROUNDS; r++) {
            DoubleAdder total = new DoubleAdder();
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        total.add(work.applyAsDouble(id));
                    } finally {
                        done.countDown();
                    }
                });
            }
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while probing the hardware", e);
            }
            best = Math.max(best, total.sum());
        }
        return best;
    }
}
