package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;

/**
 * The device state of every sequence slot, kept there between steps so that a step sends only what
 * changed, and the buffers of the sampling rows. Per slot: its sampling settings
 * ({@link SamplingSlots}), its block table, the token it sampled last (what its next decode feeds
 * back), its generated-token counts and prompt mask for the penalties, its logit biases and end
 * tokens. One slot more than the engine's, index {@link #paddingSlot()}: the slot of the padding
 * rows of a CUDA graph, greedy, whose block table names only the cache's spare block.
 *
 * <p>Per sampling row (as many as one forward pass samples): the logits, the sampling kernel's
 * scratch (keys and weights, 16 bytes per vocabulary entry) and the outputs, laid out in one buffer
 * so that a pass's results come back in one copy ({@link #outputBytes}).
 *
 * <p>The logit-bias and end-token lists have room for a fixed number of entries per slot; a sequence
 * with more makes {@link #ensureListRoom} reallocate them larger, after which every occupied slot's
 * lists and settings must be written again (their offsets moved). Not thread safe.
 */
final class SlotBuffers implements AutoCloseable {
    /** Starting room per slot for logit biases, and for end tokens. */
    static final int INITIAL_LIST_ROOM = 16;
    /** Top logprobs a row reports at most. */
    static final int MAX_TOP = SamplingSlots.MAX_TOP;
    /** (slot, index, block) triples one append_blocks launch takes at most. */
    static final int TRIPLES = 16384;

    final int slots;
    final int rows;
    final int maxBlocks;
    final int vocab;
    private final Gpu gpu;
    private final DeviceAllocations owned;
    final DeviceBuffer params;
    final DeviceBuffer lastToken;
    final DeviceBuffer blockTables;
    final DeviceBuffer counts;
    final DeviceBuffer promptMask;
    final DeviceBuffer logits;
    final DeviceBuffer keys;
    final DeviceBuffer weights;
    /** Per sampling row: its token mask ({@link #tokenMaskWords} words), read when the row is masked. */
    final DeviceBuffer tokenMasks;
    final DeviceBuffer finalIn;
    final DeviceBuffer outputs;
    final DeviceBuffer triples;
    final DeviceBuffer history;
    final DeviceBuffer historyInfo;
    /** The bias and end-token lists, reallocated together when they grow. */
    private DeviceAllocations lists;
    private DeviceBuffer biasTokens;
    private DeviceBuffer biasValues;
    private DeviceBuffer endTokens;
    private int biasRoom;
    private int endRoom;

    /**
     * @param slots the engine's sequence slots
     * @param rows the most rows one forward pass samples
     * @throws IllegalStateException if the device cannot hold them
     */
    SlotBuffers(Gpu gpu, ModelConfig c, KvLayout layout, int slots, int rows) {
        this.gpu = gpu;
        this.owned = new DeviceAllocations(gpu);
        this.slots = slots;
        this.rows = rows;
        this.vocab = c.vocabSize();
        this.maxBlocks = KvLayout.blocksFor(c.contextLength(), layout.blockSize());
        int all = slots + 1;
        try {
            params = owned.allocate((long) all * SamplingSlots.BYTES);
            lastToken = owned.allocate(4L * all);
            blockTables = owned.allocate(4L * all * maxBlocks);
            counts = owned.allocate(4L * all * vocab);
            promptMask = owned.allocate(4L * all * maskWords(vocab));
            logits = owned.allocate(4L * rows * vocab);
            keys = owned.allocate(8L * rows * vocab);
            weights = owned.allocate(8L * rows * vocab);
            tokenMasks = owned.allocate(8L * rows * tokenMaskWords(vocab));
            finalIn = owned.allocate(2L * rows * c.embeddingLength());
            outputs = owned.allocate(outputBytes(rows));
            triples = owned.allocate(4L * 3 * TRIPLES);
            history = owned.allocate(4L * historyCapacity(c));
            historyInfo = owned.allocate(4L * 5 * all);
            allocateLists(INITIAL_LIST_ROOM, INITIAL_LIST_ROOM);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Bytes these buffers take for {@code slots} slots and {@code rows} rows, before allocating them. */
    static long bytes(ModelConfig c, KvLayout layout, int slots, int rows) {
        long all = slots + 1L;
        long perSlot = SamplingSlots.BYTES + 4 + 4L * KvLayout.blocksFor(c.contextLength(), layout.blockSize())
                + 4L * c.vocabSize() + 4L * maskWords(c.vocabSize()) + 20 + 8L * INITIAL_LIST_ROOM * 3;
        long perRow = 20L * c.vocabSize() + 8L * tokenMaskWords(c.vocabSize()) + 2L * c.embeddingLength()
                + outputBytes(1);
        return all * perSlot + rows * perRow + 12L * TRIPLES + 4L * historyCapacity(c);
    }

    private static long historyCapacity(ModelConfig c) {
        // one sequence's prompt and generated tokens never pass the context
        return Math.max(4096, c.contextLength());
    }

    static int maskWords(int vocab) {
        return (vocab + 31) / 32;
    }

    /** Words of a token mask as the step plan carries it: a bit per token, 64 to a word. */
    static int tokenMaskWords(int vocab) {
        return (vocab + 63) / 64;
    }

    /** The padding slot's index. */
    int paddingSlot() {
        return slots;
    }

    /** Bytes of the outputs of {@code rows} rows: token, status, logprob, then the top ids and logprobs. */
    static long outputBytes(int rows) {
        return (3L + 2L * MAX_TOP) * 4 * rows;
    }

    long outToken() {
        return outputs.address(0);
    }

    long outStatus() {
        return outputs.address(4L * rows);
    }

    long outLogprob() {
        return outputs.address(8L * rows);
    }

    long outTopIds() {
        return outputs.address(12L * rows);
    }

    long outTopLogprobs() {
        return outputs.address((12L + 4L * MAX_TOP) * rows);
    }

    DeviceBuffer biasTokens() {
        return biasTokens;
    }

    DeviceBuffer biasValues() {
        return biasValues;
    }

    DeviceBuffer endTokens() {
        return endTokens;
    }

    /** First entry of {@code slot}'s logit biases. */
    int biasOffset(int slot) {
        return slot * biasRoom;
    }

    /** First entry of {@code slot}'s end tokens. */
    int endOffset(int slot) {
        return slot * endRoom;
    }

    /**
     * Makes room for a slot with {@code bias} logit biases and {@code end} end tokens.
     *
     * @return true if the lists were reallocated: every slot's lists and settings must be written again
     */
    boolean ensureListRoom(int bias, int end) {
        if (bias <= biasRoom && end <= endRoom) {
            return false;
        }
        int newBias = roomFor(bias, biasRoom);
        int newEnd = roomFor(end, endRoom);
        freeLists();
        allocateLists(newBias, newEnd);
        return true;
    }

    private static int roomFor(int needed, int room) {
        int r = room;
        while (r < needed) {
            r *= 2;
        }
        return r;
    }

    private void allocateLists(int bias, int end) {
        long all = slots + 1L;
        lists = new DeviceAllocations(gpu);
        biasTokens = lists.allocate(4L * all * bias);
        biasValues = lists.allocate(4L * all * bias);
        endTokens = lists.allocate(4L * all * end);
        biasRoom = bias;
        endRoom = end;
    }

    private void freeLists() {
        if (lists != null) {
            lists.close();
            lists = null;
        }
    }

    @Override
    public void close() {
        freeLists();
        owned.close();
    }
}
