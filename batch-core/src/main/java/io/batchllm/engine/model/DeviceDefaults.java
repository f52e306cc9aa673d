package io.batchllm.engine.model;

/**
 * What a device runs best with when the user does not say: the engine uses these for every limit
 * left at "automatic" ({@link io.batchllm.engine.EngineLimits}). A CPU is compute-bound at a few dozen
 * sequences; a GPU wants hundreds, so each executor suggests its own.
 *
 * @param maxSequences sequences generating at once (at least 1)
 * @param maxStepTokens the token budget of one step (at least 1)
 * @param kvCacheBytes bytes the KV cache may take: what remains after the weights and working memory,
 *     with a margin (at least 0). The engine's automatic cache is the smaller of this and what its
 *     sequences can use.
 */
public record DeviceDefaults(int maxSequences, int maxStepTokens, long kvCacheBytes) {

    public DeviceDefaults {
        if (maxSequences < 1 || maxStepTokens < 1 || kvCacheBytes < 0) {
            throw new IllegalArgumentException("device defaults need maxSequences >= 1, maxStepTokens >= 1 and "
                    + "kvCacheBytes >= 0, got " + maxSequences + ", " + maxStepTokens + ", " + kvCacheBytes);
        }
    }
}
