package io.batchllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The merge table of a byte-level BPE vocabulary ({@code tokenizer.ggml.merges}, lines "A B" whose
 * index is the rank; lower merges first). Every string that appears in a merge, as a part or as a
 * result, gets a small symbol id, and the table maps (left id, right id) to (rank, result id) in an
 * open-addressing long→long hash. Encoding then compares ints instead of building and hashing
 * strings for every candidate pair, yet finds exactly the pairs llama.cpp's string-keyed
 * {@code bpe_ranks} would: its lookups are also by the two parts' exact text. Immutable, thread safe.
 */
final class BpeMerges {
    private static final long EMPTY = -1L;

    private final Map<String, Integer> symbolIds = new HashMap<>();
    private final List<String> symbols = new ArrayList<>();
    private final long[] keys;
    private final long[] values;
    private final int mask;

    BpeMerges(List<String> merges) {
        int capacity = Integer.highestOneBit(Math.max(16, merges.size() * 2)) * 2;
        keys = new long[capacity];
        values = new long[capacity];
        mask = capacity - 1;
        Arrays.fill(keys, EMPTY);
        for (int rank = 0; rank < merges.size(); rank++) {
            String line = merges.get(rank);
            // As llama.cpp: split at the first space after position 0; a line without one merges nothing.
            int space = line.indexOf(' ', 1);
            if (space < 0) {
                continue;
            }
            String first = line.substring(0, space);
            String second = line.substring(space + 1);
            int l = intern(first);
            int r = intern(second);
            int result = intern(first + second);
            put(key(l, r), ((long) rank << 32) | result); // the first occurrence keeps its rank
        }
    }

    /** The symbol id of a string that occurs in some merge, or -1. */
    int symbolId(String s) {
        Integer id = symbolIds.get(s);
        return id == null ? -1 : id;
    }

    String symbol(int id) {
        return symbols.get(id);
    }

    int symbolCount() {
        return symbols.size();
    }

    /** {@code rank << 32 | resultSymbolId} of the merge of these two symbols, or -1 if they do not merge. */
    long find(int left, int right) {
        long k = key(left, right);
        for (int i = slot(k); ; i = (i + 1) & mask) {
            long existing = keys[i];
            if (existing == k) {
                return values[i];
            }
            if (existing == EMPTY) {
                return -1;
            }
        }
    }

    private int intern(String s) {
        Integer id = symbolIds.get(s);
        if (id != null) {
            return id;
        }
        int fresh = symbols.size();
        symbols.add(s);
        symbolIds.put(s, fresh);
        return fresh;
    }

    private void put(long k, long v) {
        for (int i = slot(k); ; i = (i + 1) & mask) {
            if (keys[i] == k) {
                return;
            }
            if (keys[i] == EMPTY) {
                keys[i] = k;
                values[i] = v;
                return;
            }
        }
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
