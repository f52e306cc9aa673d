package io.batchllm.engine.model;

import java.util.Arrays;

/**
 * The checks every executor needs, in one place, and the host-side record they work on: which
 * sequence each slot holds, its block table and how many positions it has run. An executor keeps one
 * (created by {@link DeviceExecutor#allocateKvCache}) and passes every plan through {@link #apply}
 * before it computes anything; a device executor may also read the block tables from here instead of
 * keeping its own copy on the host.
 *
 * <p>{@link #apply} refuses, with an {@link IllegalArgumentException} naming the slot and leaving
 * everything as it was:
 * <ul>
 *   <li>a slot outside {@code [0, slots)}; a start on a slot that holds a sequence (release it first)
 *       or twice in one plan; an entry for a slot that holds no sequence, or two entries for one slot;</li>
 *   <li>an entry whose position is not where its slot stands (the start's {@code cachedTokens}, or the
 *       positions it has run), or that runs past the model's context;</li>
 *   <li>a token outside the vocabulary (entries; a start's prompt, generated and end tokens, its logit
 *       bias); a feedback entry for a slot whose previous entry did not sample;</li>
 *   <li>a token mask of the wrong length for the vocabulary, or allowing a token past it;</li>
 *   <li>a block outside the cache, a block table longer than a context needs, or one too short for
 *       the positions an entry writes;</li>
 *   <li>a block conflict: an entry writes a block that another slot's table also holds. Sharing is
 *       for prefix blocks, which are only read, so a device may run the step's sequences in any order.</li>
 * </ul>
 * The checks cost O(entries + tokens + blocks written or appended) per step; releases and starts add
 * their tables.
 *
 * <p>Not thread safe: used by the thread that submits steps.
 */
public final class SlotTable {
    private final KvLayout layout;
    private final int blockSize;
    private final int vocabSize;
    private final int contextLength;
    private final int maxBlocks;

    private final SequenceStart[] sequences;
    private final int[][] tables;
    private final int[] tableLength;
    private final int[] length;
    private final boolean[] sampledLast;
    /** Per block: how many occupied slots hold it in their tables. */
    private final int[] holders;

    // Per-plan scratch, valid where its stamp equals the current plan's.
    private int stamp;
    private final int[] releasedStamp;
    private final int[] startedStamp;
    private final int[] startIndex;
    private final int[] entryStamp;
    private final int[] deltaStamp;
    private final int[] delta;

    /**
     * @param layout the KV cache's blocks
     * @param slots how many sequences the executor holds at once
     * @param vocabSize the model's vocabulary size
     * @param contextLength the model's context length: no sequence runs past it
     */
    public SlotTable(KvLayout layout, int slots, int vocabSize, int contextLength) {
        if (slots < 1) {
            throw new IllegalArgumentException("an executor needs at least 1 sequence slot, got " + slots);
        }
        this.layout = layout;
        this.blockSize = layout.blockSize();
        this.vocabSize = vocabSize;
        this.contextLength = contextLength;
        this.maxBlocks = KvLayout.blocksFor(contextLength, blockSize);
        this.sequences = new SequenceStart[slots];
        this.tables = new int[slots][];
        this.tableLength = new int[slots];
        this.length = new int[slots];
        this.sampledLast = new boolean[slots];
        this.holders = new int[layout.blockCount()];
        this.releasedStamp = new int[slots];
        this.startedStamp = new int[slots];
        this.startIndex = new int[slots];
        this.entryStamp = new int[slots];
        this.deltaStamp = new int[layout.blockCount()];
        this.delta = new int[layout.blockCount()];
        Arrays.fill(tables, new int[0]);
    }

    /** The KV cache's layout. */
    public KvLayout layout() {
        return layout;
    }

    /** Sequence slots. */
    public int slots() {
        return sequences.length;
    }

    /** The sequence in {@code slot}, or null when it is free. */
    public SequenceStart sequence(int slot) {
        return sequences[slot];
    }

    /**
     * {@code slot}'s block table, not copied: entries {@code [0, blockCount(slot))} are valid, and the
     * array may be replaced by a longer one when blocks are appended.
     */
    public int[] blockTable(int slot) {
        return tables[slot];
    }

    /** Blocks in {@code slot}'s table. */
    public int blockCount(int slot) {
        return tableLength[slot];
    }

    /** Positions {@code slot} has run (or found cached): where its next entry starts. */
    public int length(int slot) {
        return length[slot];
    }

    /**
     * Checks {@code plan} (see the class description) and, if it is valid, records its releases,
     * starts, appended blocks and positions.
     *
     * @throws IllegalArgumentException naming the slot and the problem; nothing is recorded then
     */
    public void apply(StepPlan plan) {
        if (++stamp == Integer.MAX_VALUE) {
            Arrays.fill(releasedStamp, 0);
            Arrays.fill(startedStamp, 0);
            Arrays.fill(entryStamp, 0);
            Arrays.fill(deltaStamp, 0);
            stamp = 1;
        }
        checkReleases(plan);
        checkStarts(plan);
        checkEntries(plan);
        checkWrites(plan);
        record(plan);
    }

    private void checkReleases(StepPlan plan) {
        for (int i = 0; i < plan.releaseCount(); i++) {
            int slot = plan.releasedSlot(i);
            checkSlot(slot, "a release");
            if (releasedStamp[slot] == stamp) {
                continue;
            }
            releasedStamp[slot] = stamp;
            if (sequences[slot] != null) {
                for (int b = 0; b < tableLength[slot]; b++) {
                    addDelta(tables[slot][b], -1);
                }
            }
        }
    }

    private void checkStarts(StepPlan plan) {
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            int slot = s.slot();
            checkSlot(slot, "a start");
            String which = "slot " + slot + ": ";
            if (startedStamp[slot] == stamp) {
                throw new IllegalArgumentException(which + "started twice in one step");
            }
            if (sequences[slot] != null && releasedStamp[slot] != stamp) {
                throw new IllegalArgumentException(which + "started while it holds a sequence; release the slot first");
            }
            startedStamp[slot] = stamp;
            startIndex[slot] = i;
            if (s.blockCount() > maxBlocks) {
                throw new IllegalArgumentException(which + "its block table has " + s.blockCount() + " blocks, more than"
                        + " the " + maxBlocks + " blocks of " + blockSize + " a context of " + contextLength + " needs");
            }
            if (s.cachedTokens() >= contextLength || s.cachedTokens() > s.blockCount() * blockSize) {
                throw new IllegalArgumentException(which + "cachedTokens " + s.cachedTokens() + " must be below the"
                        + " context length " + contextLength + " and within its " + s.blockCount() + " blocks");
            }
            for (int b = 0; b < s.blockCount(); b++) {
                checkBlock(which, "its initial block table entry " + b, s.block(b));
                addDelta(s.block(b), 1);
            }
            checkTokens(which, "prompt", s.promptTokens());
            checkTokens(which, "generated", s.generatedTokens());
            checkTokens(which, "end", s.endTokens());
            for (int token : s.sampling().logitBias().keySet()) {
                checkToken(which, "logit bias token", token);
            }
            for (int token : s.sampling().stopTokenIds()) {
                checkToken(which, "stop token id", token);
            }
        }
    }

    private void checkEntries(StepPlan plan) {
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            checkSlot(slot, "entry " + e);
            String which = "slot " + slot + ": ";
            boolean started = startedStamp[slot] == stamp;
            if (!started && (sequences[slot] == null || releasedStamp[slot] == stamp)) {
                throw new IllegalArgumentException(which + "runs in this step but holds no sequence; start one first");
            }
            if (entryStamp[slot] == stamp) {
                throw new IllegalArgumentException(which + "runs twice in one step");
            }
            entryStamp[slot] = stamp;
            int expected = started ? plan.started(startIndex[slot]).cachedTokens() : length[slot];
            if (plan.position(e) != expected) {
                throw new IllegalArgumentException(which + "its entry starts at position " + plan.position(e)
                        + " but the slot holds " + expected + " positions, so it must start at " + expected);
            }
            if (plan.end(e) > contextLength) {
                throw new IllegalArgumentException(which + "positions up to " + plan.end(e) + " run past the context"
                        + " length " + contextLength);
            }
            if (plan.isFeedback(e)) {
                if (started || !sampledLast[slot]) {
                    throw new IllegalArgumentException(which + "feeds back its last sample, but its previous entry did"
                            + " not sample");
                }
            } else {
                for (int t = 0; t < plan.tokenCount(e); t++) {
                    if (plan.token(e, t) < 0 || plan.token(e, t) >= vocabSize) {
                        throw new IllegalArgumentException(which + "token " + t + " has id " + plan.token(e, t)
                                + ", outside the vocabulary 0.." + (vocabSize - 1));
                    }
                }
            }
            if (plan.hasMask(e)) {
                checkMask(which, plan, e);
            }
            int before = blocksBefore(plan, slot);
            int after = before + plan.newBlockCount(e);
            for (int b = 0; b < plan.newBlockCount(e); b++) {
                checkBlock(which, "appended block " + b, plan.newBlock(e, b));
                addDelta(plan.newBlock(e, b), 1);
            }
            if (after > maxBlocks) {
                throw new IllegalArgumentException(which + "its block table would have " + after + " blocks, more than"
                        + " the " + maxBlocks + " a context of " + contextLength + " needs");
            }
            int needed = KvLayout.blocksFor(plan.end(e), blockSize);
            if (after < needed) {
                throw new IllegalArgumentException(which + "positions 0.." + plan.end(e) + " need " + needed
                        + " blocks of " + blockSize + " but its block table has " + after);
            }
        }
    }

    /** A mask has a word per 64 tokens, and no bit past the vocabulary (only the last word can have one). */
    private void checkMask(String which, StepPlan plan, int e) {
        int words = (vocabSize + 63) >>> 6;
        if (plan.maskLength(e) != words) {
            throw new IllegalArgumentException(which + "its token mask has " + plan.maskLength(e) + " words, but the"
                    + " vocabulary of " + vocabSize + " tokens needs " + words);
        }
        int used = vocabSize - 64 * (words - 1);
        long past = used == 64 ? 0 : plan.maskWord(e, words - 1) >>> used;
        if (past != 0) {
            throw new IllegalArgumentException(which + "its token mask allows token " + (64 * (words - 1) + used
                    + Long.numberOfTrailingZeros(past)) + ", outside the vocabulary 0.." + (vocabSize - 1));
        }
    }

    /**
     * Every block an entry writes must be held by its slot alone, once this plan's releases, starts and
     * appends are counted.
     */
    private void checkWrites(StepPlan plan) {
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            for (int i = plan.position(e) / blockSize; i <= (plan.end(e) - 1) / blockSize; i++) {
                int block = blockAt(plan, e, i);
                int held = holders[block] + (deltaStamp[block] == stamp ? delta[block] : 0);
                if (held != 1) {
                    throw new IllegalArgumentException("slot " + slot + ": it writes block " + block + ", which "
                            + otherHolder(plan, slot, block) + " also holds; only a block no other slot holds may be"
                            + " written");
                }
            }
        }
    }

    private void record(StepPlan plan) {
        for (int i = 0; i < plan.releaseCount(); i++) {
            int slot = plan.releasedSlot(i);
            if (sequences[slot] != null) {
                for (int b = 0; b < tableLength[slot]; b++) {
                    holders[tables[slot][b]]--;
                }
                sequences[slot] = null;
                tableLength[slot] = 0;
                length[slot] = 0;
                sampledLast[slot] = false;
            }
        }
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            int slot = s.slot();
            sequences[slot] = s;
            tableLength[slot] = 0;
            for (int b = 0; b < s.blockCount(); b++) {
                appendBlock(slot, s.block(b));
            }
            length[slot] = s.cachedTokens();
            sampledLast[slot] = false;
        }
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            for (int b = 0; b < plan.newBlockCount(e); b++) {
                appendBlock(slot, plan.newBlock(e, b));
            }
            length[slot] = plan.end(e);
            sampledLast[slot] = plan.samples(e);
        }
    }

    private void appendBlock(int slot, int block) {
        if (tableLength[slot] == tables[slot].length) {
            tables[slot] = Arrays.copyOf(tables[slot], Math.min(maxBlocks, Math.max(8, 2 * tableLength[slot])));
        }
        tables[slot][tableLength[slot]++] = block;
        holders[block]++;
    }

    /** Blocks in the slot's table before this plan's entry appends its own. */
    private int blocksBefore(StepPlan plan, int slot) {
        return startedStamp[slot] == stamp ? plan.started(startIndex[slot]).blockCount() : tableLength[slot];
    }

    /** Entry {@code e}'s block table entry {@code i}, as it will be when the entry runs. */
    private int blockAt(StepPlan plan, int e, int i) {
        int slot = plan.slot(e);
        int before = blocksBefore(plan, slot);
        if (i >= before) {
            return plan.newBlock(e, i - before);
        }
        return startedStamp[slot] == stamp ? plan.started(startIndex[slot]).block(i) : tables[slot][i];
    }

    /** For the message only: which other slot holds {@code block} once the plan is applied. */
    private String otherHolder(StepPlan plan, int slot, int block) {
        for (int other = 0; other < sequences.length; other++) {
            if (other == slot) {
                continue;
            }
            boolean startedNow = startedStamp[other] == stamp;
            boolean held = false;
            if (startedNow) {
                SequenceStart s = plan.started(startIndex[other]);
                for (int b = 0; b < s.blockCount() && !held; b++) {
                    held = s.block(b) == block;
                }
            } else if (sequences[other] != null && releasedStamp[other] != stamp) {
                for (int b = 0; b < tableLength[other] && !held; b++) {
                    held = tables[other][b] == block;
                }
            }
            for (int e = 0; e < plan.entryCount() && !held; e++) {
                if (plan.slot(e) == other) {
                    for (int b = 0; b < plan.newBlockCount(e) && !held; b++) {
                        held = plan.newBlock(e, b) == block;
                    }
                }
            }
            if (held) {
                return "slot " + other;
            }
        }
        return "its own block table (twice)";
    }

    private void addDelta(int block, int change) {
        if (deltaStamp[block] != stamp) {
            deltaStamp[block] = stamp;
            delta[block] = 0;
        }
        delta[block] += change;
    }

    private void checkSlot(int slot, String what) {
        if (slot < 0 || slot >= sequences.length) {
            throw new IllegalArgumentException(what + " names slot " + slot + ", outside the executor's slots 0.."
                    + (sequences.length - 1));
        }
    }

    private void checkBlock(String which, String what, int block) {
        if (block < 0 || block >= layout.blockCount()) {
            throw new IllegalArgumentException(which + what + " is " + block + ", outside the cache's blocks 0.."
                    + (layout.blockCount() - 1));
        }
    }

    private void checkTokens(String which, String what, int[] tokens) {
        for (int token : tokens) {
            checkToken(which, what + " token", token);
        }
    }

    private void checkToken(String which, String what, int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException(which + "a " + what + " has id " + token + ", outside the vocabulary 0.."
                    + (vocabSize - 1));
        }
    }
}
