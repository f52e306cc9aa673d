package io.batchllm.engine.model;

/**
 * Runs a model's forward pass on one device (the CPU, a GPU). This is the whole contract between the
 * device and everything above it (scheduler, sampling, tokenizers, service), and it mentions no device
 * types: a step is token ids, positions and block tables in, logits out.
 *
 * <h2>KV cache</h2>
 * The executor owns one paged KV cache, reserved once by {@link #allocateKvCache} with a
 * {@link KvLayout}: {@code blockCount} blocks of {@code blockSize} positions, each block holding K and
 * V of every layer for its positions. The executor never decides which block holds what: every
 * {@link SequenceStep} carries its sequence's block table, and the caller (the scheduler's block pool)
 * hands blocks out, shares prefix blocks between sequences and reuses freed ones.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #step} runs every sequence of the {@link StepInput} through the model at once. Each
 *       sequence's tokens sit at positions {@code position, position+1, …}; each token attends to
 *       positions {@code [0, its position]} of its own block table (causal) and never to another
 *       sequence's. The step stores the new tokens' keys and values at their positions' slots;
 *       positions before {@code position} are read as the caller left them (earlier steps, or a
 *       shared prefix another sequence computed).
 *   <li>Within one step no block may be written by two sequences, nor read by one sequence while
 *       another writes it (the scheduler shares only blocks that earlier steps completed).
 *   <li>Batching is invisible in the results: a sequence gets the same logits, bit for bit, whether
 *       it runs alone, with others, in one prefill or in chunks, and whichever blocks hold it.
 *   <li>Invalid input (a token outside {@code [0, vocabSize)}, a block table too short for the
 *       positions or naming a block outside the layout, a block conflict as above, no cache
 *       allocated) is rejected with an {@link IllegalArgumentException} naming the sequence, before
 *       anything is computed.
 *   <li>Not thread safe: one scheduler thread allocates the cache and runs steps. Implementations
 *       parallelize inside a step.
 *   <li>{@link #close()} releases the device's resources; the executor is unusable after.
 * </ul>
 */
public interface DeviceExecutor extends AutoCloseable {

    /** The model this executor runs. */
    ModelConfig config();

    /**
     * Bytes one cached token position takes on this device: K and V of every layer. Lets the caller
     * size the cache ({@code kv_cache_tokens}) against memory.
     */
    long kvBytesPerToken();

    /**
     * Bytes this device can give the KV cache when the user does not size it: what remains after the
     * weights and working memory, with a margin. The engine's default cache is the smaller of this and
     * what its sequence slots can use.
     */
    long defaultKvCacheBytes();

    /**
     * Reserves the KV cache's storage for {@code layout}, all of it now, so that steps never allocate
     * cache memory. Replaces (and frees) any earlier cache; its contents are lost.
     *
     * @throws IllegalArgumentException if the layout does not fit the device, naming its size
     */
    void allocateKvCache(KvLayout layout);

    /** The layout of the allocated cache, or null before {@link #allocateKvCache}. */
    KvLayout kvLayout();

    /**
     * Runs one forward step.
     *
     * @return logits for the sequences that asked, indexed like {@code input.sequences()}
     * @throws IllegalArgumentException for invalid input, before anything is computed
     * @throws IllegalStateException if no KV cache was allocated or the executor is closed
     */
    StepOutput step(StepInput input);

    @Override
    void close();
}
