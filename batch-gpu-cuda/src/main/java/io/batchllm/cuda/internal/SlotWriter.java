package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Stream;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.SlotTable;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.sampling.SamplingParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Queues what a step changes in the slots' state on the device ({@link SlotBuffers}), from the step's
 * pinned staging: the settings, logit biases and end tokens of the sequences it starts (of every
 * occupied slot when the lists had to grow), the penalty histories of those that have penalties, and
 * the blocks appended to block tables. Everything else about a slot stays on the device from step to
 * step. Not thread safe.
 */
final class SlotWriter {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Stream stream;
    private final ForwardKernels kernels;
    /** Per slot: the step (stamp) that started it. */
    private int[] startedIn = new int[0];
    private int stamp;

    SlotWriter(Stream stream, ForwardKernels kernels) {
        this.stream = stream;
        this.kernels = kernels;
    }

    /** A started sequence's history for the penalties: its prompt (with a repetition penalty) and earlier tokens. */
    private record History(int slot, int[] prompt, int[] generated) {
        int tokens() {
            return prompt.length + generated.length;
        }
    }

    /**
     * Queues the writes of {@code plan}, which {@code slots} has recorded.
     *
     * @return whether the bias and end-token lists moved (what holds their addresses must be rebuilt)
     */
    boolean write(StepPlan plan, SlotTable slots, SlotBuffers state, StagingArea st) {
        if (startedIn.length != slots.slots()) {
            startedIn = new int[slots.slots()];
        }
        if (++stamp == Integer.MAX_VALUE) {
            Arrays.fill(startedIn, 0);
            stamp = 1;
        }
        boolean moved = writeStarts(plan, slots, state, st);
        writeBlocks(plan, slots, state, st);
        return moved;
    }

    private boolean writeStarts(StepPlan plan, SlotTable slots, SlotBuffers state, StagingArea st) {
        if (plan.startCount() == 0) {
            return false;
        }
        boolean moved = false;
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            moved |= state.ensureListRoom(s.sampling().logitBias().size(), endTokens(s).length);
            startedIn[s.slot()] = stamp;
        }
        if (moved) {
            // every occupied slot's lists moved: write them all again
            for (int slot = 0; slot < slots.slots(); slot++) {
                if (slots.sequence(slot) != null) {
                    writeSettings(slot, slots.sequence(slot), state, st);
                }
            }
        } else {
            for (int i = 0; i < plan.startCount(); i++) {
                writeSettings(plan.started(i).slot(), plan.started(i), state, st);
            }
        }
        writeHistories(plan, state, st);
        return moved;
    }

    /** The end tokens the device masks: only while {@code min_tokens} tokens were not generated yet. */
    private static int[] endTokens(SequenceStart s) {
        return s.generatedCount() < s.sampling().minTokens() ? s.endTokens() : new int[0];
    }

    private void writeSettings(int slot, SequenceStart s, SlotBuffers state, StagingArea st) {
        SamplingParams p = s.sampling();
        int[] ends = endTokens(s);
        MemorySegment params = st.take(SamplingSlots.BYTES);
        SamplingSlots.write(params, 0, p, s.seed(), s.choiceIndex(),
                new SamplingSlots.Lists(state.biasOffset(slot), state.endOffset(slot), ends.length));
        stream.upload(params, state.params, (long) slot * SamplingSlots.BYTES);
        int bias = p.logitBias().size();
        if (bias > 0) {
            MemorySegment tokens = st.take(4L * bias);
            MemorySegment values = st.take(4L * bias);
            SamplingSlots.writeBias(tokens, values, 0, p);
            stream.upload(tokens, state.biasTokens(), 4L * state.biasOffset(slot));
            stream.upload(values, state.biasValues(), 4L * state.biasOffset(slot));
        }
        if (ends.length > 0) {
            MemorySegment e = st.take(4L * ends.length);
            MemorySegment.copy(ends, 0, e, INT, 0, ends.length);
            stream.upload(e, state.endTokens(), 4L * state.endOffset(slot));
        }
    }

    /**
     * The penalty state of the started sequences that have penalties: their generated tokens counted,
     * their prompt marked (with a repetition penalty), by init_history in batches that fit its buffer.
     */
    private void writeHistories(StepPlan plan, SlotBuffers state, StagingArea st) {
        long capacity = state.history.bytes() / 4;
        List<History> batch = new ArrayList<>();
        long batchTokens = 0;
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            if (!s.sampling().penalized()) {
                continue;
            }
            History h = new History(s.slot(), s.sampling().repetitionPenalty() != 1 ? s.promptTokens() : new int[0],
                    s.generatedTokens());
            if (batchTokens + h.tokens() > capacity && !batch.isEmpty()) {
                flushHistories(batch, state, st);
                batch.clear();
                batchTokens = 0;
            }
            batch.add(h);
            batchTokens += h.tokens();
        }
        if (!batch.isEmpty()) {
            flushHistories(batch, state, st);
        }
    }

    private void flushHistories(List<History> batch, SlotBuffers state, StagingArea st) {
        long total = batch.stream().mapToLong(History::tokens).sum();
        MemorySegment tokens = st.take(4 * Math.max(1, total));
        MemorySegment info = st.take(4L * 5 * batch.size());
        int at = 0;
        for (int i = 0; i < batch.size(); i++) {
            History h = batch.get(i);
            info.setAtIndex(INT, 5L * i, h.slot());
            info.setAtIndex(INT, 5L * i + 1, at);
            info.setAtIndex(INT, 5L * i + 2, h.prompt().length);
            MemorySegment.copy(h.prompt(), 0, tokens, INT, 4L * at, h.prompt().length);
            at += h.prompt().length;
            info.setAtIndex(INT, 5L * i + 3, at);
            info.setAtIndex(INT, 5L * i + 4, h.generated().length);
            MemorySegment.copy(h.generated(), 0, tokens, INT, 4L * at, h.generated().length);
            at += h.generated().length;
        }
        stream.upload(tokens, state.history, 0);
        stream.upload(info, state.historyInfo, 0);
        kernels.initHistory(stream, state, state.history.address(), state.historyInfo.address(), batch.size());
    }

    /**
     * The blocks the step adds to block tables: a started sequence's whole table (with what its entry
     * appends), another slot's appended blocks, written by append_blocks in batches.
     */
    private void writeBlocks(StepPlan plan, SlotTable slots, SlotBuffers state, StagingArea st) {
        TripleWriter w = new TripleWriter(state, st);
        for (int i = 0; i < plan.startCount(); i++) {
            int slot = plan.started(i).slot();
            int[] table = slots.blockTable(slot);
            for (int b = 0; b < slots.blockCount(slot); b++) {
                w.add(slot, b, table[b]);
            }
        }
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            int added = plan.newBlockCount(e);
            if (added == 0 || startedIn[slot] == stamp) {
                continue;
            }
            int first = slots.blockCount(slot) - added;
            for (int b = 0; b < added; b++) {
                w.add(slot, first + b, plan.newBlock(e, b));
            }
        }
        w.flush();
    }

    /** Collects (slot, index, block) triples in staging and writes them in batches of {@link SlotBuffers#TRIPLES}. */
    private final class TripleWriter {
        private final SlotBuffers state;
        private final StagingArea st;
        private MemorySegment batch;
        private int count;

        TripleWriter(SlotBuffers state, StagingArea st) {
            this.state = state;
            this.st = st;
        }

        void add(int slot, int index, int block) {
            if (batch == null) {
                batch = st.take(12L * SlotBuffers.TRIPLES);
            }
            long at = 3L * count;
            batch.setAtIndex(INT, at, slot);
            batch.setAtIndex(INT, at + 1, index);
            batch.setAtIndex(INT, at + 2, block);
            if (++count == SlotBuffers.TRIPLES) {
                flush();
            }
        }

        void flush() {
            if (count > 0) {
                stream.upload(batch.asSlice(0, 12L * count), state.triples, 0);
                kernels.appendBlocks(stream, state.blockTables.address(), state.maxBlocks, state.triples.address(),
                        count);
                batch = null;
                count = 0;
            }
        }
    }
}
