package io.batchllm.engine.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One step for a {@link DeviceExecutor}: only what changed since the last step. The device applies it
 * in this order:
 * <ol>
 *   <li><b>releases</b>: slots whose sequences ended (finished, failed or preempted); their state is
 *       dropped. Releasing a free slot does nothing;</li>
 *   <li><b>starts</b>: sequences taking a slot, each with its sampling settings, seed and initial
 *       block table, registered once ({@link SequenceStart});</li>
 *   <li><b>entries</b>, one per slot that runs in this step: its new tokens, the position of the
 *       first, the blocks to append to its table first, and whether to sample a token after its last
 *       token. A decode entry can name its token as <em>feedback</em>: the token the device sampled for
 *       that slot in its previous entry, which the engine has not seen yet (it need not wait for
 *       the previous step to plan this one).</li>
 * </ol>
 * Entry {@code i}'s sample is entry {@code i} of the {@link StepResult}.
 *
 * <p><b>Token masks.</b> A sampling entry may carry a mask ({@link #mask}): a bitset over the
 * vocabulary, bit {@code t % 64} of word {@code t / 64} set when token {@code t} may be sampled, in
 * exactly {@code ceil(vocabSize / 64)} words with no bit set past the vocabulary. The device samples
 * as {@link io.batchllm.engine.sampling.Sampler} documents, with every token whose bit is clear
 * excluded (its logit taken as minus infinity) after the logprobs are taken, as the
 * {@code min_tokens} mask is: the returned token always has its bit set, its logprob and the top
 * logprobs describe the model's distribution, and when no allowed token can be sampled the entry's
 * sample fails ({@link StepResult#failure}). Structured outputs (a JSON Schema, a regex) send one for
 * every sample of a constrained sequence, computed by the host from the tokens it has seen; others
 * send none and cost nothing. A 128k vocabulary's mask is 2,004 longs (16 KB).
 *
 * <p>Reusable: the engine {@link #clear()}s and refills one plan per step; everything is kept in flat
 * primitive arrays that only ever grow, so planning a step allocates nothing. {@link DeviceExecutor#submit}
 * reads the plan before it returns. Not thread safe.
 */
public final class StepPlan {
    private static final byte SAMPLE = 1;
    private static final byte FEEDBACK = 2;

    private int[] releases = new int[8];
    private int releaseCount;
    private final List<SequenceStart> starts = new ArrayList<>();

    private int entryCount;
    private int[] slot = new int[8];
    private int[] position = new int[8];
    private int[] tokenFrom = new int[8];
    private int[] tokenCount = new int[8];
    private int[] blockFrom = new int[8];
    private int[] blockCount = new int[8];
    private byte[] flags = new byte[8];
    private int[] tokens = new int[64];
    private int tokenTotal;
    private int[] blocks = new int[8];
    private int blockTotal;
    /** Per entry: where its mask starts in {@link #masks}, -1 for none; and its length in words. */
    private int[] maskFrom = new int[8];
    private int[] maskLength = new int[8];
    private long[] masks = new long[0];
    private int maskTotal;
    private int maskCount;
    private int sampleCount;
    private int feedbackCount;

    /** Empties the plan for the next step, keeping its arrays. */
    public void clear() {
        releaseCount = 0;
        starts.clear();
        entryCount = 0;
        tokenTotal = 0;
        blockTotal = 0;
        maskTotal = 0;
        maskCount = 0;
        sampleCount = 0;
        feedbackCount = 0;
    }

    /** Whether the plan holds neither releases, starts nor entries. */
    public boolean isEmpty() {
        return releaseCount == 0 && starts.isEmpty() && entryCount == 0;
    }

    /** Releases {@code slot} before anything else in this step. */
    public void release(int slot) {
        if (releaseCount == releases.length) {
            releases = Arrays.copyOf(releases, 2 * releaseCount);
        }
        releases[releaseCount++] = slot;
    }

    /** Starts a sequence in its slot, after the releases and before the entries. */
    public void start(SequenceStart start) {
        starts.add(Objects.requireNonNull(start, "start"));
    }

    /**
     * Adds an entry that runs {@code source[from, to)} at positions {@code position, position+1, …} of
     * {@code slot}: a prompt chunk (a prefill), or the whole recomputed text of a resumed sequence.
     *
     * @param sample whether to sample a token after the last of them (the prompt's last chunk)
     * @return the entry's index
     */
    public int chunk(int slot, int position, int[] source, int from, int to, boolean sample) {
        int count = to - from;
        if (count < 1) {
            throw new IllegalArgumentException("an entry needs at least one token, got [" + from + ", " + to + ")");
        }
        ensureTokens(count);
        System.arraycopy(source, from, tokens, tokenTotal, count);
        int entry = newEntry(slot, position, count, sample ? SAMPLE : 0);
        tokenTotal += count;
        return entry;
    }

    /**
     * Adds a decode entry of one token at {@code position} of {@code slot}: the token the device
     * sampled for that slot in its previous entry. It samples the next token.
     *
     * @return the entry's index
     */
    public int feedback(int slot, int position) {
        return newEntry(slot, position, 1, (byte) (SAMPLE | FEEDBACK));
    }

    /**
     * Appends {@code block} to the block table of the slot of the entry added last, before that entry
     * runs.
     *
     * @throws IllegalStateException if no entry has been added yet
     */
    public void addBlock(int block) {
        if (entryCount == 0) {
            throw new IllegalStateException("add an entry before the blocks it appends");
        }
        if (blockTotal == blocks.length) {
            blocks = Arrays.copyOf(blocks, 2 * blockTotal);
        }
        blocks[blockTotal++] = block;
        blockCount[entryCount - 1]++;
    }

    /**
     * Restricts the sample of the entry added last to the tokens whose bits are set in
     * {@code words} (see the class description); the words are copied.
     *
     * @throws IllegalStateException if no entry has been added, the last one does not sample, or it
     *     has a mask already
     */
    public void mask(long[] words) {
        if (entryCount == 0 || !samples(entryCount - 1)) {
            throw new IllegalStateException("a token mask belongs to a sampling entry: add one before its mask");
        }
        int e = entryCount - 1;
        if (maskFrom[e] >= 0) {
            throw new IllegalStateException("entry " + e + " has a token mask already");
        }
        if (maskTotal + words.length > masks.length) {
            masks = Arrays.copyOf(masks, Math.max(2 * masks.length, maskTotal + words.length));
        }
        System.arraycopy(words, 0, masks, maskTotal, words.length);
        maskFrom[e] = maskTotal;
        maskLength[e] = words.length;
        maskTotal += words.length;
        maskCount++;
    }

    private int newEntry(int slotIndex, int firstPosition, int count, byte entryFlags) {
        if (entryCount == slot.length) {
            int n = 2 * entryCount;
            slot = Arrays.copyOf(slot, n);
            position = Arrays.copyOf(position, n);
            tokenFrom = Arrays.copyOf(tokenFrom, n);
            tokenCount = Arrays.copyOf(tokenCount, n);
            blockFrom = Arrays.copyOf(blockFrom, n);
            blockCount = Arrays.copyOf(blockCount, n);
            flags = Arrays.copyOf(flags, n);
            maskFrom = Arrays.copyOf(maskFrom, n);
            maskLength = Arrays.copyOf(maskLength, n);
        }
        int e = entryCount++;
        slot[e] = slotIndex;
        position[e] = firstPosition;
        tokenFrom[e] = tokenTotal;
        tokenCount[e] = count;
        blockFrom[e] = blockTotal;
        blockCount[e] = 0;
        flags[e] = entryFlags;
        maskFrom[e] = -1;
        maskLength[e] = 0;
        if ((entryFlags & SAMPLE) != 0) {
            sampleCount++;
        }
        if ((entryFlags & FEEDBACK) != 0) {
            feedbackCount++;
        }
        return e;
    }

    private void ensureTokens(int more) {
        if (tokenTotal + more > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(2 * tokens.length, tokenTotal + more));
        }
    }

    // --- reading, for executors

    /** Slots released by this step. */
    public int releaseCount() {
        return releaseCount;
    }

    /** The {@code i}-th released slot. */
    public int releasedSlot(int i) {
        return releases[i];
    }

    /** Sequences started by this step. */
    public int startCount() {
        return starts.size();
    }

    /** The {@code i}-th started sequence. */
    public SequenceStart started(int i) {
        return starts.get(i);
    }

    /** Entries (slots that run) in this step. */
    public int entryCount() {
        return entryCount;
    }

    /** The slot of entry {@code e}. */
    public int slot(int e) {
        return slot[e];
    }

    /** The position of entry {@code e}'s first token. */
    public int position(int e) {
        return position[e];
    }

    /** How many tokens entry {@code e} runs (1 for feedback). */
    public int tokenCount(int e) {
        return tokenCount[e];
    }

    /** One past the last position entry {@code e} writes. */
    public int end(int e) {
        return position[e] + tokenCount[e];
    }

    /** Whether entry {@code e}'s one token is the slot's previous sample (see {@link #feedback}). */
    public boolean isFeedback(int e) {
        return (flags[e] & FEEDBACK) != 0;
    }

    /**
     * Token {@code i} of entry {@code e}.
     *
     * @throws IllegalStateException for a feedback entry, whose token only the device knows
     */
    public int token(int e, int i) {
        if (isFeedback(e)) {
            throw new IllegalStateException("entry " + e + " feeds back the slot's last sample; only the device knows it");
        }
        return tokens[tokenFrom[e] + i];
    }

    /** Whether entry {@code e} samples a token after its last token. */
    public boolean samples(int e) {
        return (flags[e] & SAMPLE) != 0;
    }

    /** Blocks entry {@code e} appends to its slot's table before it runs. */
    public int newBlockCount(int e) {
        return blockCount[e];
    }

    /** The {@code i}-th block entry {@code e} appends. */
    public int newBlock(int e, int i) {
        return blocks[blockFrom[e] + i];
    }

    /** Whether entry {@code e}'s sample is restricted by a token mask. */
    public boolean hasMask(int e) {
        return maskFrom[e] >= 0;
    }

    /** Words of entry {@code e}'s token mask, 0 without one. */
    public int maskLength(int e) {
        return maskLength[e];
    }

    /** Word {@code w} of entry {@code e}'s token mask: tokens {@code 64w .. 64w+63}, lowest bit first. */
    public long maskWord(int e, int w) {
        if (w < 0 || w >= maskLength[e]) {
            throw new IndexOutOfBoundsException("word " + w + " of a mask of " + maskLength[e] + " words");
        }
        return masks[maskFrom[e] + w];
    }

    /** Copies entry {@code e}'s token mask ({@link #maskLength} words) into {@code dest} from {@code destFrom}. */
    public void copyMask(int e, long[] dest, int destFrom) {
        if (!hasMask(e)) {
            throw new IllegalStateException("entry " + e + " has no token mask");
        }
        System.arraycopy(masks, maskFrom[e], dest, destFrom, maskLength[e]);
    }

    /** Entries with a token mask. */
    public int maskCount() {
        return maskCount;
    }

    /** Tokens the step runs, over all entries. */
    public int tokenTotal() {
        return tokenTotal + feedbackCount;
    }

    /** Entries that sample. */
    public int sampleCount() {
        return sampleCount;
    }

    @Override
    public String toString() {
        return "StepPlan[releases=" + releaseCount + ", starts=" + starts.size() + ", entries=" + entryCount
                + ", tokens=" + tokenTotal() + ", samples=" + sampleCount + ", masks=" + maskCount + "]";
    }
}
