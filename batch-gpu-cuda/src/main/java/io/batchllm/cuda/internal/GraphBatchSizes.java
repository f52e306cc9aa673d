package io.batchllm.cuda.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The decode batch sizes CUDA graphs are captured for, and which one a batch is padded to. A graph
 * replays fixed kernel launches with fixed shapes, so one is captured per size of a ladder (1, 2, 4,
 * then every multiple of 8 up to the engine's sequence limit, as vLLM does) and a decode step of B
 * sequences runs the graph of the smallest size ≥ B, the extra rows being padding whose results are
 * dropped. Steps with prefill chunks, or larger than the ladder, run eagerly.
 *
 * <p>Immutable.
 */
public final class GraphBatchSizes {
    private final int[] sizes;

    private GraphBatchSizes(int[] sizes) {
        this.sizes = sizes;
    }

    /** The ladder up to {@code maxBatch} (rounded up to a multiple of 8 past 4). */
    public static GraphBatchSizes upTo(int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        List<Integer> s = new ArrayList<>();
        for (int b : new int[] {1, 2, 4}) {
            if (b <= maxBatch || s.isEmpty() || s.getLast() < maxBatch) {
                s.add(b);
            }
        }
        for (int b = 8; s.getLast() < maxBatch; b += 8) {
            s.add(b);
        }
        return new GraphBatchSizes(s.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The captured sizes, ascending. */
    public int[] sizes() {
        return sizes.clone();
    }

    /** The graph key of a decode step of {@code batch} sequences: the padded size, or empty to run eagerly. */
    public OptionalInt padded(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        for (int s : sizes) {
            if (s >= batch) {
                return OptionalInt.of(s);
            }
        }
        return OptionalInt.empty();
    }
}
