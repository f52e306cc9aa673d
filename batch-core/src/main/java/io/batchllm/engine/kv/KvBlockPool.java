package io.batchllm.engine.kv;

import io.batchllm.engine.model.KvLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Hands out the blocks of a paged KV cache ({@link KvLayout}) to sequences, and shares prompt prefixes
 * between them.
 *
 * <h2>Blocks on demand</h2>
 * {@link #allocate} takes the blocks of the positions a sequence computes when it starts (its prompt,
 * or for a resumed sequence its prompt and what it had generated), or takes nothing and returns null:
 * the caller keeps the sequence waiting. {@link #grow} adds blocks as the sequence generates, or
 * reports that none are left, and the caller then preempts a sequence to free some. So a sequence
 * holds only what it has used, whatever its {@code max_tokens}.
 *
 * <h2>Prefix sharing</h2>
 * A block whose positions are all prompt tokens is registered under a <em>chain hash</em> of its
 * tokens and of every token before it, so equal keys mean equal prefixes and therefore equal K and V.
 * A later sequence whose prompt starts with the same tokens takes those blocks (a reference each)
 * instead of computing them, and starts its first step after them. Shared blocks are never written:
 * only blocks holding positions before the prompt's last token are looked up (the last token is always
 * computed, for its logits), and a sequence writes only positions after its shared ones. A block
 * becomes shareable once the step that filled it has completed ({@link #computed}); a sequence whose
 * prompt matches a block still being computed waits (null from {@link #allocate}) rather than
 * computing a private copy, so a batch of requests with one system prompt computes it exactly once.
 *
 * <p>Unreferenced prefix blocks stay valid in an LRU list and are reused (evicted) only when no
 * never-used block is left. The hash is 64 bits and each block's own tokens are compared exactly on a
 * hit, so a wrong hit needs two different prefixes with equal 64-bit hashes followed by equal blocks.
 *
 * <p>Not thread safe: the scheduler thread owns it.
 */
public final class KvBlockPool {
    /** Token positions per block unless configured: vLLM's default, small enough to waste little. */
    public static final int DEFAULT_BLOCK_SIZE = 16;

    private static final long SEED = 0x6A09E667F3BCC908L;

    private final KvLayout layout;
    private final int blockSize;
    private final boolean prefixSharing;
    private final int[] refCount;
    /** Chain hash of a registered block (its tokens and all before them). */
    private final long[] hash;
    /** Chain hash of everything before a registered block. */
    private final long[] parentHash;
    /** A registered block's own tokens, compared on every hit; null when not registered. */
    private final int[][] tokens;
    private final boolean[] computed;
    private final Map<Long, Integer> prefixes = new HashMap<>();
    /** Blocks that hold nothing anyone can use. */
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Unreferenced, computed prefix blocks, least recently released first. */
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();
    private long blocksFilled;
    private long cachedTokensServed;

    /**
     * @param layout the cache's blocks (the executor's {@link KvLayout})
     * @param prefixSharing whether to share prompt prefix blocks between sequences
     */
    public KvBlockPool(KvLayout layout, boolean prefixSharing) {
        this.layout = layout;
        this.blockSize = layout.blockSize();
        this.prefixSharing = prefixSharing;
        int n = layout.blockCount();
        this.refCount = new int[n];
        this.hash = new long[n];
        this.parentHash = new long[n];
        this.tokens = new int[n][];
        this.computed = new boolean[n];
        for (int b = 0; b < n; b++) {
            free.add(b);
        }
    }

    /** The cache's layout. */
    public KvLayout layout() {
        return layout;
    }

    /** Whether prompt prefixes are shared. */
    public boolean prefixSharing() {
        return prefixSharing;
    }

    /** Whether a sequence of {@code tokens} positions could ever be allocated (the whole cache free). */
    public boolean fits(int tokens) {
        return layout.blocksFor(tokens) <= layout.blockCount();
    }

    /** {@link #allocate(int[], int, int)} leaving no blocks spare. */
    public KvSequence allocate(int[] prompt, int tokens) {
        return allocate(prompt, tokens, 0);
    }

    /**
     * Takes the blocks for the first {@code tokens} positions of a sequence whose prompt is
     * {@code prompt}, taking shared prefix blocks where they match: the prompt's full blocks before
     * the one holding its last token, which always runs.
     *
     * @param prompt the prompt's tokens (not modified or kept)
     * @param tokens the positions to hold now: the prompt, or the prompt and the tokens a resumed
     *     sequence generated before; at least {@code prompt.length}
     * @param spare blocks that must stay available after this allocation (headroom for the running
     *     sequences' growth), or it waits
     * @return the blocks, or null if the sequence must wait: too few blocks are free now, or its
     *     prompt's prefix is being computed by a running sequence
     * @throws IllegalArgumentException if {@code tokens} can never fit (see {@link #fits}) or is shorter
     *     than the prompt
     */
    public KvSequence allocate(int[] prompt, int tokens, int spare) {
        if (tokens < prompt.length || prompt.length == 0) {
            throw new IllegalArgumentException("a sequence of " + tokens + " positions cannot hold its prompt of "
                    + prompt.length + " tokens");
        }
        int needed = layout.blocksFor(tokens);
        if (needed > layout.blockCount()) {
            throw new IllegalArgumentException("a sequence of " + tokens + " positions needs " + needed
                    + " KV blocks but the cache has only " + layout.blockCount());
        }
        int[] table = new int[needed];
        // blocks wholly inside the prompt may be registered; those before its last token may be shared
        int registrable = prefixSharing ? prompt.length / blockSize : 0;
        int matchable = prefixSharing ? (prompt.length - 1) / blockSize : 0;
        long[] chain = chainHashes(prompt, registrable);
        int hits = 0;
        int hitsEvictable = 0;
        for (; hits < matchable; hits++) {
            int b = lookup(chain, hits, prompt);
            if (b < 0) {
                break;
            }
            if (!computed[b]) {
                return null; // a running sequence fills it in its next steps: wait, then share it
            }
            table[hits] = b;
            if (refCount[b] == 0) {
                hitsEvictable++;
            }
        }
        if (needed - hits + spare > free.size() + evictable.size() - hitsEvictable) {
            return null;
        }
        for (int i = 0; i < hits; i++) {
            if (refCount[table[i]]++ == 0) {
                evictable.remove(table[i]);
            }
        }
        for (int i = hits; i < needed; i++) {
            int b = takeUnusedBlock();
            table[i] = b;
            refCount[b] = 1;
            blocksFilled++;
            if (i < registrable && !prefixes.containsKey(chain[i])) {
                register(b, chain, i, prompt);
            }
        }
        cachedTokensServed += (long) hits * blockSize;
        return new KvSequence(table, hits, blockSize, registrable);
    }

    /**
     * Adds blocks to {@code seq} until they hold {@code tokens} positions, taking never-used blocks
     * first, then the least recently used unreferenced prefix blocks.
     *
     * @return false, taking nothing, if not enough blocks are available: the caller frees some (by
     *     preempting a sequence) or lets {@code seq} wait
     * @throws IllegalArgumentException if {@code seq} was released, or {@code tokens} can never fit
     */
    public boolean grow(KvSequence seq, int tokens) {
        if (seq.released) {
            throw new IllegalArgumentException("a released sequence cannot grow");
        }
        int needed = layout.blocksFor(tokens);
        if (needed > layout.blockCount()) {
            throw new IllegalArgumentException("a sequence of " + tokens + " positions needs " + needed
                    + " KV blocks but the cache has only " + layout.blockCount());
        }
        int more = needed - seq.blockCount();
        if (more <= 0) {
            return true;
        }
        if (more > free.size() + evictable.size()) {
            return false;
        }
        for (int i = 0; i < more; i++) {
            int b = takeUnusedBlock();
            refCount[b] = 1;
            blocksFilled++;
            seq.append(b);
        }
        return true;
    }

    /**
     * Records that positions {@code [0, tokens)} of {@code seq} are now in the cache (a step
     * completed): its full prompt blocks among them become shareable. Does nothing for a released
     * sequence (a step that completed after its sequence was preempted).
     */
    public void computed(KvSequence seq, int tokens) {
        if (seq.released) {
            return;
        }
        int full = Math.min(seq.shareableEnd, tokens / blockSize);
        for (; seq.computeCursor < full; seq.computeCursor++) {
            computed[seq.block(seq.computeCursor)] = true;
        }
    }

    /**
     * Gives the sequence's blocks back. Prefix blocks that nobody else uses stay valid for later
     * sequences until their space is needed; a registered block that was never completed is forgotten.
     * Idempotent.
     */
    public void release(KvSequence seq) {
        if (seq.released) {
            return;
        }
        seq.released = true;
        // last block first: when evicting, a prefix's tail goes before its head, which others may share
        for (int i = seq.blockCount() - 1; i >= 0; i--) {
            int b = seq.block(i);
            if (--refCount[b] > 0) {
                continue;
            }
            if (this.tokens[b] != null && computed[b]) {
                evictable.add(b);
            } else {
                forget(b);
                free.add(b);
            }
        }
    }

    /** Blocks that {@link #allocate} can hand out now: never used, or holding an unreferenced prefix. */
    public int availableBlocks() {
        return free.size() + evictable.size();
    }

    /** Blocks referenced by at least one sequence. */
    public int blocksInUse() {
        return layout.blockCount() - availableBlocks();
    }

    /**
     * Blocks handed out to be written since this pool was created: every reserved block except the
     * shared prefix blocks a sequence found already computed. With prefix sharing, a prefix common to
     * many sequences counts once.
     */
    public long blocksFilled() {
        return blocksFilled;
    }

    /** Unreferenced blocks still holding a shareable prefix. */
    public int cachedBlocks() {
        return evictable.size();
    }

    /** The counters now. */
    public KvCacheStats stats() {
        return new KvCacheStats(blocksFilled, blocksInUse(), cachedBlocks(), cachedTokensServed);
    }

    private int takeUnusedBlock() {
        Integer b = free.poll();
        if (b == null) {
            Iterator<Integer> lru = evictable.iterator();
            b = lru.next();
            lru.remove();
            forget(b);
        }
        computed[b] = false;
        return b;
    }

    /** The registered block for prompt block {@code i}, or -1; its prefix and tokens must match exactly. */
    private int lookup(long[] chain, int i, int[] prompt) {
        Integer b = prefixes.get(chain[i]);
        if (b == null) {
            return -1;
        }
        long parent = i == 0 ? SEED : chain[i - 1];
        int from = i * blockSize;
        boolean same = parentHash[b] == parent
                && Arrays.equals(tokens[b], 0, blockSize, prompt, from, from + blockSize);
        return same ? b : -1;
    }

    private void register(int b, long[] chain, int i, int[] prompt) {
        hash[b] = chain[i];
        parentHash[b] = i == 0 ? SEED : chain[i - 1];
        tokens[b] = Arrays.copyOfRange(prompt, i * blockSize, (i + 1) * blockSize);
        prefixes.put(chain[i], b);
    }

    private void forget(int b) {
        if (tokens[b] != null) {
            prefixes.remove(hash[b], b);
            tokens[b] = null;
        }
        computed[b] = false;
    }

    /** The chain hash of each of the first {@code blocks} full blocks of {@code prompt}. */
    private long[] chainHashes(int[] prompt, int blocks) {
        long[] out = new long[blocks];
        long h = SEED;
        for (int i = 0; i < blocks; i++) {
            for (int t = i * blockSize; t < (i + 1) * blockSize; t++) {
                h = mix(h ^ (prompt[t] & 0xFFFFFFFFL) * 0x9E3779B97F4A7C15L);
            }
            out[i] = h;
        }
        return out;
    }

    /** SplitMix64's finalizer: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
