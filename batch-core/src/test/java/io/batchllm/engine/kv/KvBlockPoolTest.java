package io.batchllm.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.model.KvLayout;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reservation, waiting, prefix sharing, and reuse of the block pool, with blocks of 4 positions. */
class KvBlockPoolTest {

    /** {@code n} tokens {@code from, from+1, …}. */
    private static int[] tokens(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aSequenceReservesEveryBlockItCanNeedAndNoBlockIsHandedOutTwice() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 10), false);
        KvSequence a = pool.allocate(tokens(0, 5), 12);
        KvSequence b = pool.allocate(tokens(50, 3), 9);
        assertEquals(3, a.blockCount());
        assertEquals(3, b.blockCount());
        Set<Integer> all = new HashSet<>();
        Arrays.stream(a.blockTable()).forEach(all::add);
        Arrays.stream(b.blockTable()).forEach(all::add);
        assertEquals(6, all.size());
        assertEquals(6, pool.blocksInUse());
        assertEquals(4, pool.availableBlocks());
    }

    @Test
    void whenTooFewBlocksAreFreeTheSequenceWaitsUntilOthersRelease() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 4), false);
        KvSequence a = pool.allocate(tokens(0, 4), 12);
        assertNull(pool.allocate(tokens(10, 4), 8), "2 blocks wanted, 1 free: wait, reserve nothing");
        assertEquals(3, pool.blocksInUse());
        pool.release(a);
        assertNotNull(pool.allocate(tokens(10, 4), 8));
    }

    @Test
    void aSequenceLargerThanTheWholeCacheIsRefusedNamingTheSizes() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 4), true);
        assertTrue(pool.fits(16));
        assertTrue(!pool.fits(17));
        var e = assertThrows(IllegalArgumentException.class, () -> pool.allocate(tokens(0, 3), 17));
        assertEquals("a sequence of 17 positions needs 5 KV blocks but the cache has only 4", e.getMessage());
    }

    @Test
    void aComputedPrefixIsSharedAndOnlyTheTailIsFilled() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 20), true);
        int[] system = tokens(100, 9); // two full blocks and one token
        KvSequence first = pool.allocate(concat(system, tokens(0, 3)), 16);
        pool.computed(first, 12);
        assertEquals(0, first.cachedTokens());

        KvSequence second = pool.allocate(concat(system, tokens(40, 5)), 16);
        assertEquals(8, second.cachedTokens(), "the two full blocks of the common prefix");
        assertArrayEquals(Arrays.copyOf(first.blockTable(), 2), Arrays.copyOf(second.blockTable(), 2));
        assertNotEquals(first.blockTable()[2], second.blockTable()[2], "the block with the differing tokens");
        assertEquals(4 + 2, pool.blocksFilled(), "4 for the first, only the 2 tail blocks for the second");
        assertEquals(6, pool.blocksInUse());
        assertEquals(8, pool.stats().cachedTokensServed());
    }

    @Test
    void theLastPromptTokenIsAlwaysComputedSoASharedBlockIsNeverWritten() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 20), true);
        int[] prompt = tokens(7, 8); // exactly two blocks
        KvSequence first = pool.allocate(prompt, 10);
        pool.computed(first, 10);
        KvSequence again = pool.allocate(prompt, 10);
        assertEquals(4, again.cachedTokens(), "block 2 holds the last prompt token, which must run for its logits");
        assertNotEquals(first.blockTable()[1], again.blockTable()[1]);
    }

    @Test
    void aPrefixStillBeingComputedMakesTheNextSequenceWaitInsteadOfComputingItTwice() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 20), true);
        int[] prompt = tokens(0, 10);
        KvSequence first = pool.allocate(prompt, 12);
        assertNull(pool.allocate(prompt, 12), "block 0 is being computed");
        pool.computed(first, 6);
        assertNull(pool.allocate(prompt, 12), "block 0 is done, block 1 still being computed");
        pool.computed(first, 10);
        assertEquals(8, pool.allocate(prompt, 12).cachedTokens());
    }

    @Test
    void aPrefixWhoseOwnerLeftBeforeComputingItIsForgotten() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 20), true);
        int[] prompt = tokens(0, 10);
        pool.release(pool.allocate(prompt, 12));
        KvSequence next = pool.allocate(prompt, 12);
        assertNotNull(next, "nobody is computing it any more");
        assertEquals(0, next.cachedTokens());
    }

    @Test
    void releasedPrefixBlocksStayShareableUntilTheirSpaceIsNeededTailFirst() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 6), true);
        int[] prompt = tokens(0, 13); // three shareable blocks
        KvSequence first = pool.allocate(prompt, 16);
        pool.computed(first, 13);
        pool.release(first);
        assertEquals(3, pool.cachedBlocks());
        assertEquals(6, pool.availableBlocks());

        KvSequence reuse = pool.allocate(prompt, 16);
        assertEquals(12, reuse.cachedTokens(), "found after its first user left");
        pool.release(reuse);

        // 5 blocks for an unrelated prompt: the 2 never-used blocks, then the LRU prefix blocks, tail first
        KvSequence other = pool.allocate(tokens(500, 3), 20);
        assertNotNull(other);
        assertEquals(1, pool.cachedBlocks());
        KvSequence again = pool.allocate(prompt, 13);
        assertNull(again, "no block free for it");
        pool.release(other);
        assertEquals(4, pool.allocate(prompt, 13).cachedTokens(), "the prefix's first block survived");
    }

    @Test
    void withSharingOffNothingIsShared() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 20), false);
        int[] prompt = tokens(0, 10);
        KvSequence first = pool.allocate(prompt, 12);
        pool.computed(first, 10);
        KvSequence second = pool.allocate(prompt, 12);
        assertEquals(0, second.cachedTokens());
        assertEquals(6, pool.blocksFilled());
    }

    @Test
    void releaseIsIdempotent() {
        KvBlockPool pool = new KvBlockPool(new KvLayout(4, 4), true);
        KvSequence a = pool.allocate(tokens(0, 5), 8);
        pool.release(a);
        pool.release(a);
        assertTrue(a.isReleased());
        assertEquals(4, pool.availableBlocks());
        assertEquals(0, pool.blocksInUse());
    }
}
