package io.batchllm.engine.tokenizer;

import java.util.Arrays;

/**
 * A binary min-heap of candidate merges of two adjacent symbols, ordered by priority and then by the
 * left symbol's index. That tie-break is the one in llama.cpp's {@code llm_bigram_spm/bpe::comparator},
 * which makes equal-priority merges apply left to right. Primitive arrays instead of a
 * {@code PriorityQueue<Object>}: encoding a long prompt pushes one entry per merge attempt.
 * Not thread safe; one per encode call.
 */
final class BigramQueue {
    private long[] priority = new long[16];
    private int[] left = new int[16];
    private int[] right = new int[16];
    private int[] size = new int[16];
    private int count;

    // The entry removed by the last poll().
    int polledLeft;
    int polledRight;
    int polledSize;

    boolean isEmpty() {
        return count == 0;
    }

    void push(long prio, int l, int r, int sz) {
        if (count == priority.length) {
            int n = count * 2;
            priority = Arrays.copyOf(priority, n);
            left = Arrays.copyOf(left, n);
            right = Arrays.copyOf(right, n);
            size = Arrays.copyOf(size, n);
        }
        int i = count++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!less(prio, l, priority[parent], left[parent])) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        set(i, prio, l, r, sz);
    }

    /** Removes the smallest entry into {@link #polledLeft}, {@link #polledRight}, {@link #polledSize}. */
    void poll() {
        polledLeft = left[0];
        polledRight = right[0];
        polledSize = size[0];
        int last = --count;
        if (last == 0) {
            return;
        }
        long p = priority[last];
        int l = left[last];
        int r = right[last];
        int sz = size[last];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && less(priority[child + 1], left[child + 1], priority[child], left[child])) {
                child++;
            }
            if (!less(priority[child], left[child], p, l)) {
                break;
            }
            move(child, i);
            i = child;
        }
        set(i, p, l, r, sz);
    }

    private static boolean less(long p1, int l1, long p2, int l2) {
        return p1 < p2 || (p1 == p2 && l1 < l2);
    }

    private void move(int from, int to) {
        set(to, priority[from], left[from], right[from], size[from]);
    }

    private void set(int i, long p, int l, int r, int sz) {
        priority[i] = p;
        left[i] = l;
        right[i] = r;
        size[i] = sz;
    }
}
