package io.batchllm.engine.model;

/**
 * Runs a model's forward pass on one device (the CPU, a GPU). This is the whole contract between the
 * device and everything above it (scheduler, sampling, tokenizers, service), and it mentions no device
 * types: a step is token ids, positions and opaque {@link KvCache} handles in, logits out.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #step} runs every sequence of the {@link StepInput} through the model at once. Each
 *       sequence's tokens sit at positions {@code position, position+1, …}; each token attends to its
 *       own sequence's cached positions {@code [0, its position]} (causal) and never to another
 *       sequence. The step stores the new tokens' keys and values in the sequence's cache, so its
 *       {@link KvCache#length()} becomes {@code position + tokens}.
 *   <li>Batching is invisible in the results: a sequence gets the same logits (up to float rounding)
 *       whether it runs alone, with others, in one prefill or in chunks.
 *   <li>Invalid input (a token outside {@code [0, vocabSize)}, a position past the cache's length or
 *       capacity, a cache from another executor or already closed, the same cache twice) is rejected
 *       with an {@link IllegalArgumentException} naming the sequence, before any cache is modified.
 *   <li>Not thread safe: one scheduler thread creates caches and runs steps. Implementations
 *       parallelize inside a step.
 *   <li>{@link #close()} releases the device's resources; caches and the executor are unusable after.
 * </ul>
 */
public interface DeviceExecutor extends AutoCloseable {

    /** The model this executor runs. */
    ModelConfig config();

    /**
     * A new, empty KV cache for one sequence of up to {@code maxTokens} positions (prompt plus output).
     *
     * @throws IllegalArgumentException if {@code maxTokens} is not positive or exceeds what the device
     *         can hold for one sequence
     */
    KvCache newKvCache(int maxTokens);

    /**
     * Runs one forward step.
     *
     * @return logits for the sequences that asked, indexed like {@code input.sequences()}
     * @throws IllegalArgumentException for invalid input, before anything is computed
     */
    StepOutput step(StepInput input);

    @Override
    void close();
}
