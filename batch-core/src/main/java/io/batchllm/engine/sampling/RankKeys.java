package io.batchllm.engine.sampling;

import java.util.Arrays;

/**
 * Packs (logit, token id) into one {@code long} whose natural ascending order is "higher logit first,
 * then lower id first". Sorting and selecting these primitive keys avoids boxing a comparator over
 * vocabulary-sized index arrays, and makes every tie-break deterministic.
 */
final class RankKeys {
    private RankKeys() {
    }

    /** The key of token {@code id} with logit {@code logit}. */
    static long key(float logit, int id) {
        int bits = Float.floatToRawIntBits(logit);
        // Flip the magnitude bits of negatives so that signed-int order equals float order...
        int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        // ...then invert it so that the highest logit gets the smallest key.
        return ((long) ~ordered << 32) | (id & 0xFFFFFFFFL);
    }

    /** The token id inside a key. */
    static int id(long key) {
        return (int) key;
    }

    /**
     * Writes into {@code out[0..k)} the keys of the {@code k} best tokens of {@code row[0..length)},
     * best first, and returns how many it wrote ({@code min(k, length)}). {@code out} must hold k.
     *
     * <p>A bounded max-heap keeps the k best seen so far; most tokens lose one comparison against its
     * root, so this is O(V) for small k rather than the O(V log V) of a full sort.
     */
    static int selectBest(float[] row, int length, int k, long[] out) {
        if (k <= 0) {
            return 0;
        }
        int size = 0;
        for (int id = 0; id < length; id++) {
            long key = key(row[id], id);
            if (size < k) {
                out[size] = key;
                siftUp(out, size++);
            } else if (key < out[0]) {
                out[0] = key;
                siftDown(out, size);
            }
        }
        Arrays.sort(out, 0, size);
        return size;
    }

    private static void siftUp(long[] heap, int i) {
        long key = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    private static void siftDown(long[] heap, int size) {
        long key = heap[0];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[child] <= key) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }
}
