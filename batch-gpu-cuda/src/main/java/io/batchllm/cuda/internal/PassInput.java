package io.batchllm.cuda.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * What one forward pass needs from the host, built from a step's entries and uploaded as one block of
 * ints: per token its id (0 for a fed-back decode, filled in on the device), position and slot; the
 * attention tiles (runs of up to {@value ForwardKernels#ATTN_QUERIES} consecutive tokens of one
 * entry); per sampling row its slot, generated-token index, last token and whether a token mask
 * restricts it (the masks themselves go to their own buffer); and the fed-back decodes.
 * The sections lie back to back in that order, so the offsets the graph of a padded decode reads
 * depend on its size alone (the fed-back list, last, is read by a kernel outside the graph).
 *
 * <p>Also kept per row, for reading the results: the plan entry it answers and its top logprob count.
 * Reused from step to step; not thread safe.
 */
final class PassInput {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Ints per token of capacity: tokens, positions and slots; tiles (2); rows (4); fed-back decodes (2). */
    private static final int INTS_PER_TOKEN = 11;

    final int capacity;
    int tokens;
    final int[] token;
    final int[] position;
    final int[] slot;
    int tiles;
    final int[] tileFirst;
    final int[] tileCount;
    int rows;
    final int[] rowSlot;
    final int[] rowGen;
    final int[] rowLast;
    /** 1 when the row's sample has a token mask, else 0. */
    final int[] rowMasked;
    final int[] rowEntry;
    final int[] rowTop;
    int feedbacks;
    final int[] feedbackAt;
    final int[] feedbackSlot;
    /** Rows added as padding for a graph (their results are dropped). */
    int padding;

    PassInput(int capacity) {
        this.capacity = capacity;
        token = new int[capacity];
        position = new int[capacity];
        slot = new int[capacity];
        tileFirst = new int[capacity];
        tileCount = new int[capacity];
        rowSlot = new int[capacity];
        rowGen = new int[capacity];
        rowLast = new int[capacity];
        rowMasked = new int[capacity];
        rowEntry = new int[capacity];
        rowTop = new int[capacity];
        feedbackAt = new int[capacity];
        feedbackSlot = new int[capacity];
    }

    /** Device bytes of the inputs of a pass of {@code capacity} tokens. */
    static long bytes(int capacity) {
        return 4L * INTS_PER_TOKEN * capacity;
    }

    void clear() {
        tokens = 0;
        tiles = 0;
        rows = 0;
        feedbacks = 0;
        padding = 0;
    }

    int room() {
        return capacity - tokens;
    }

    /**
     * Adds {@code count} consecutive tokens of one entry of {@code slotIndex} from {@code firstPosition},
     * cut into tiles; their ids are set by the caller ({@link #token}), or fed back for a decode.
     *
     * @return the index of the first token in the pass
     */
    int addRun(int slotIndex, int firstPosition, int count, boolean fedBack) {
        int first = tokens;
        for (int i = 0; i < count; i++) {
            int t = tokens++;
            token[t] = 0;
            position[t] = firstPosition + i;
            slot[t] = slotIndex;
        }
        for (int from = 0; from < count; from += ForwardKernels.ATTN_QUERIES) {
            tileFirst[tiles] = first + from;
            tileCount[tiles++] = Math.min(ForwardKernels.ATTN_QUERIES, count - from);
        }
        if (fedBack) {
            feedbackAt[feedbacks] = first;
            feedbackSlot[feedbacks++] = slotIndex;
        }
        return first;
    }

    /**
     * A sampling row after token {@code last} of the pass, answering plan entry {@code entry}
     * ({@code masked} when the entry has a token mask).
     */
    void addRow(int slotIndex, int generatedIndex, int last, int entry, int top, boolean masked) {
        rowSlot[rows] = slotIndex;
        rowGen[rows] = generatedIndex;
        rowLast[rows] = last;
        rowMasked[rows] = masked ? 1 : 0;
        rowEntry[rows] = entry;
        rowTop[rows++] = top;
    }

    /** Whether some row of the pass has a token mask. */
    boolean anyMasked() {
        for (int r = 0; r < rows; r++) {
            if (rowMasked[r] != 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether every token is a fed-back decode that samples: the shape a CUDA graph replays. */
    boolean decodeOnly() {
        return tokens > 0 && feedbacks == tokens && rows == tokens;
    }

    /**
     * Pads a decode-only pass to {@code size} tokens in {@code paddingSlot} at position 0: tiles of one,
     * sampling greedily rows whose results are dropped.
     */
    void padTo(int size, int paddingSlot) {
        while (tokens < size) {
            int t = addRun(paddingSlot, 0, 1, false);
            addRow(paddingSlot, 0, t, -1, 0, false);
            padding++;
        }
    }

    // --- the uploaded layout, in bytes from the start of the block

    long tokenAt() {
        return 0;
    }

    long positionAt() {
        return 4L * tokens;
    }

    long slotAt() {
        return 8L * tokens;
    }

    long tileFirstAt() {
        return 12L * tokens;
    }

    long tileCountAt() {
        return tileFirstAt() + 4L * tiles;
    }

    long rowSlotAt() {
        return tileCountAt() + 4L * tiles;
    }

    long rowGenAt() {
        return rowSlotAt() + 4L * rows;
    }

    long rowLastAt() {
        return rowGenAt() + 4L * rows;
    }

    long rowMaskedAt() {
        return rowLastAt() + 4L * rows;
    }

    long feedbackAtAt() {
        return rowMaskedAt() + 4L * rows;
    }

    long feedbackSlotAt() {
        return feedbackAtAt() + 4L * feedbacks;
    }

    /** Bytes of the uploaded block. */
    long byteSize() {
        return feedbackSlotAt() + 4L * feedbacks;
    }

    /** Writes the block into {@code dst} (at least {@link #byteSize()} bytes). */
    void write(MemorySegment dst) {
        put(dst, tokenAt(), token, tokens);
        put(dst, positionAt(), position, tokens);
        put(dst, slotAt(), slot, tokens);
        put(dst, tileFirstAt(), tileFirst, tiles);
        put(dst, tileCountAt(), tileCount, tiles);
        put(dst, rowSlotAt(), rowSlot, rows);
        put(dst, rowGenAt(), rowGen, rows);
        put(dst, rowLastAt(), rowLast, rows);
        put(dst, rowMaskedAt(), rowMasked, rows);
        put(dst, feedbackAtAt(), feedbackAt, feedbacks);
        put(dst, feedbackSlotAt(), feedbackSlot, feedbacks);
    }

    private static void put(MemorySegment dst, long at, int[] values, int count) {
        MemorySegment.copy(values, 0, dst, INT, at, count);
    }

    /** A copy of the per-row bookkeeping, which the step's handle reads after later passes reuse this one. */
    Rows rows() {
        return new Rows(rows - padding, Arrays.copyOf(rowEntry, rows - padding), Arrays.copyOf(rowTop, rows - padding));
    }

    /** Which plan entry each real row answers, and how many top logprobs it reports. */
    record Rows(int count, int[] entry, int[] top) {
    }
}
