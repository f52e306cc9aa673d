package io.batchllm.engine.model;

/**
 * Runs a model on one device (the CPU, a GPU): the forward pass <em>and the sampling</em>, over a
 * ragged batch of sequences that stay registered on the device. This is the whole contract between a
 * device and everything above it (scheduler, tokenizers, stop strings, service), and it mentions no
 * device types. It is shaped by what a GPU needs; {@code docs/engine.md} explains what crosses the
 * boundary and why.
 *
 * <h2>What crosses the device boundary</h2>
 * <ul>
 *   <li><b>Once per sequence</b> ({@link SequenceStart}, in the plan of the step that starts it): its
 *       slot, sampling settings, seed, choice index and initial KV block table, plus its prompt,
 *       earlier generated tokens and end tokens for the penalties and the {@code min_tokens} mask.</li>
 *   <li><b>Per step</b> ({@link StepPlan}): for each slot that runs, its new tokens (none for a decode
 *       that feeds back the token the device sampled for it last), the position of the first, the
 *       blocks appended to its table, and whether to sample; and the slots released.</li>
 *   <li><b>Back per step</b> ({@link StepResult}): per sampling entry, the token id, its logprob and
 *       the top logprobs its sequence asked for: O(sequences × top logprobs), never a row of logits.</li>
 * </ul>
 *
 * <h2>Steps</h2>
 * <ul>
 *   <li>{@link #submit} checks the plan with the executor's {@link SlotTable} and returns a
 *       {@link StepHandle} at once; the device runs steps in submission order, each seeing every KV
 *       write and sample of the steps before it, so the engine can plan step n+1 (feeding back step
 *       n's samples it has not seen) while step n runs. An executor may also run the step before
 *       {@code submit} returns (the CPU does).</li>
 *   <li>Each entry's tokens sit at positions {@code position, position+1, …} of its slot; each token
 *       attends to positions {@code [0, its position]} of its own block table (causal) and never to
 *       another slot's. The step stores the new tokens' keys and values at their positions' slots;
 *       positions before {@code position} are read as earlier steps (or the sequence whose prefix is
 *       shared) left them.</li>
 *   <li>A sampling entry samples from the logits of its last token with its sequence's settings, in
 *       the order and with the random numbers {@link io.batchllm.engine.sampling.Sampler} documents:
 *       generated token {@code i} of a choice draws {@link io.batchllm.engine.sampling.SplitMix64#uniform}
 *       {@code (streamSeed(seed, choice), i)}, so results do not depend on the device or the batch.
 *       Stop strings, end tokens and detokenization are the engine's. A sample that fails (a NaN in
 *       the logits) is reported for its entry ({@link StepResult#failure}) without failing the step;
 *       a later feedback entry of that slot, planned before the failure was known, may run any valid
 *       token, since the engine discards the slot's results.</li>
 *   <li>Batching is invisible in the results: a sequence gets the same tokens and logprobs, bit for
 *       bit, whether it runs alone or with others, in one prefill or in chunks, whichever blocks and
 *       slot hold it, and after a preemption and restart.</li>
 *   <li>A plan {@link SlotTable} refuses is refused with its {@link IllegalArgumentException}, before
 *       anything is computed and with nothing changed.</li>
 * </ul>
 *
 * <h2>KV cache</h2>
 * {@link #allocateKvCache} reserves the whole paged cache ({@link KvLayout}: blocks of
 * {@code blockSize} positions, each holding K and V of every layer) and the state of every slot, once.
 * The executor never decides which block holds what: the engine's block pool hands blocks out, shares
 * prefix blocks and reuses freed ones, and the plans say which.
 *
 * <p>Not thread safe: one engine thread allocates, submits and awaits. Implementations parallelize
 * inside a step. {@link #close()} releases the device's resources; the executor is unusable after.
 */
public interface DeviceExecutor extends AutoCloseable {

    /** The model this executor runs. */
    ModelConfig config();

    /** The limits this device suggests when the user sets none (sequences in flight, step budget, cache). */
    DeviceDefaults defaults();

    /**
     * Bytes one cached token position takes on this device: K and V of every layer. Lets the caller
     * size the cache ({@code kv_cache_tokens}) against memory.
     */
    long kvBytesPerToken();

    /**
     * Reserves the KV cache's storage for {@code layout} and the state of {@code slots} sequences, all
     * of it now, so that steps never allocate device memory. Replaces (and frees) any earlier cache and
     * slots; their contents are lost.
     *
     * @throws IllegalArgumentException if the layout does not fit the device, naming its size
     * @throws IllegalStateException if the executor is closed
     */
    void allocateKvCache(KvLayout layout, int slots);

    /** The layout of the allocated cache, or null before {@link #allocateKvCache}. */
    KvLayout kvLayout();

    /** Sequence slots allocated, 0 before {@link #allocateKvCache}. */
    int slots();

    /**
     * Starts one step and returns at once (or after running it). The plan may be reused as soon as
     * this returns.
     *
     * @throws IllegalArgumentException for a plan the {@link SlotTable} refuses, before anything runs
     * @throws IllegalStateException if no KV cache was allocated or the executor is closed
     */
    StepHandle submit(StepPlan plan);

    @Override
    void close();
}
