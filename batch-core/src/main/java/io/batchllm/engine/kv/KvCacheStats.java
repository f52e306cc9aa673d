package io.batchllm.engine.kv;

/**
 * A snapshot of a {@link KvBlockPool}'s counters.
 *
 * @param blocksFilled blocks handed out to be written since the pool was created (see
 *     {@link KvBlockPool#blocksFilled()}): a prefix shared by many sequences counts once
 * @param blocksInUse blocks referenced by running sequences now
 * @param cachedBlocks unreferenced blocks still holding a shareable prefix
 * @param cachedTokensServed prompt tokens that sequences found computed in shared blocks, in total
 */
public record KvCacheStats(long blocksFilled, int blocksInUse, int cachedBlocks, long cachedTokensServed) {
}
