package io.batchllm.engine.cpu;

import io.batchllm.engine.EngineLimits;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.DeviceDefaults;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.SlotTable;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.sampling.Sampler;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The CPU {@link DeviceExecutor}: F32 activations and accumulation, weights read in place from the
 * mapped GGUF file through {@code Matrix} kernels, the Vector API for the rest, and a fixed pool of
 * {@code threads} (the calling thread plus {@code threads - 1} workers) splitting each matmul's rows
 * and then the step's sampling (one {@link Sampler} per slot, the rows spread over the threads, a
 * sampling entry's token mask applied to its copy of the row). The
 * paged KV cache lives in F32 heap arrays reserved by {@link #allocateKvCache}.
 *
 * <p>Steps run synchronously: {@link #submit} computes the step and returns a completed handle. The
 * logits stay in one reused buffer and are sampled where they lie; nothing vocabulary-sized is copied
 * or allocated per step.
 *
 * <p>It also keeps the <em>reference logits path</em> for tests ({@link #step(StepInput)}, package
 * private): whole block tables in, a row of logits per sequence out. Do not mix it with plans on
 * one cache.
 *
 * <p>Build one from a file with {@link #load(Path, int)}; it owns the file and unmaps it on
 * {@link #close()}. Not thread safe (see {@link DeviceExecutor}).
 */
public final class CpuExecutor implements DeviceExecutor {

    /** Threads used by {@link #load(Path)}: one per available processor. */
    public static final int DEFAULT_THREADS = Runtime.getRuntime().availableProcessors();

    private final ModelConfig config;
    private final Parallel parallel;
    private final LlamaForward forward;
    private final AutoCloseable source;
    private final ForwardBatch batch = new ForwardBatch();
    private CpuKvStore store;
    private SlotTable slots;
    /** Per slot: its sampler, and its last sampled token (what a feedback entry runs), -1 after a failure. */
    private Sampler[] samplers = new Sampler[0];
    private int[] lastSample = new int[0];
    /** Per thread: a vocabulary-sized row to sample in, and a token mask copied out of the plan. */
    private final float[][] sampleScratch;
    private final long[][] maskScratch;
    /** Which plan entry each row of logits belongs to, in the current step. */
    private int[] rowEntry = new int[8];
    private boolean closed;

    /**
     * An executor over already-loaded weights. The weights' tensors must stay valid (their file open)
     * until this executor is closed; closing it does not close them.
     *
     * @param threads threads per step, at least 1
     * @throws ModelFormatException if a tensor's type has no CPU kernel
     */
    public CpuExecutor(ModelWeights weights, int threads) {
        this(weights, threads, null);
    }

    private CpuExecutor(ModelWeights weights, int threads, AutoCloseable source) {
        CpuModel model = CpuModel.of(weights);
        this.config = weights.config();
        this.parallel = new Parallel(threads);
        this.forward = new LlamaForward(model, parallel);
        this.source = source;
        this.sampleScratch = new float[threads][config.vocabSize()];
        this.maskScratch = new long[threads][(config.vocabSize() + 63) >>> 6];
    }

    /** {@link #load(Path, int)} with {@link #DEFAULT_THREADS}. */
    public static CpuExecutor load(Path gguf) {
        return load(gguf, DEFAULT_THREADS);
    }

    /**
     * Opens a GGUF model and checks it completely (metadata, every tensor's presence, shape and type).
     *
     * @param threads threads per step, at least 1
     * @throws ModelFormatException naming the file and what is wrong with it
     */
    public static CpuExecutor load(Path gguf, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, is " + threads);
        }
        GgufFile file = GgufFile.open(gguf);
        try {
            return new CpuExecutor(ModelWeights.fromGguf(file), threads, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** Threads a step uses. */
    public int threads() {
        return parallel.threads();
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU: {@value EngineLimits#DEFAULT_MAX_SEQUENCES} sequences (enough to keep the matmuls
     * weight-read-bound, not more), steps of {@value EngineLimits#DEFAULT_MAX_STEP_TOKENS} tokens, and a
     * quarter of the JVM's maximum heap ({@code -Xmx}) for the cache, which leaves the rest for requests,
     * responses and the batch service.
     */
    @Override
    public DeviceDefaults defaults() {
        return new DeviceDefaults(EngineLimits.DEFAULT_MAX_SEQUENCES, EngineLimits.DEFAULT_MAX_STEP_TOKENS,
                Runtime.getRuntime().maxMemory() / 4);
    }

    @Override
    public long kvBytesPerToken() {
        return CpuKvStore.bytesPerToken(config.blockCount(), config.kvDim());
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU the storage is two F32 heap arrays per layer of {@code tokens × kvDim} floats
     * ({@link #kvBytesPerToken()} per position), zeroed now; a slot is a sampler and a block table.
     */
    @Override
    public void allocateKvCache(KvLayout layout, int slotCount) {
        checkOpen();
        store = null; // let the old cache go before the new one is allocated
        slots = null;
        store = new CpuKvStore(layout, config.blockCount(), config.kvDim());
        slots = new SlotTable(layout, slotCount, config.vocabSize(), config.contextLength());
        samplers = new Sampler[slotCount];
        lastSample = new int[slotCount];
    }

    /** The reference path's cache: {@link #allocateKvCache(KvLayout, int)} with one (unused) slot. */
    void allocateKvCache(KvLayout layout) {
        allocateKvCache(layout, 1);
    }

    @Override
    public KvLayout kvLayout() {
        return store == null ? null : store.layout();
    }

    @Override
    public int slots() {
        return slots == null ? 0 : slots.slots();
    }

    /** Runs the step now: the forward pass of every entry, then the sampling entries' samples. */
    @Override
    public StepHandle submit(StepPlan plan) {
        checkReady();
        slots.apply(plan);
        for (int i = 0; i < plan.releaseCount(); i++) {
            samplers[plan.releasedSlot(i)] = null;
        }
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            samplers[s.slot()] = Sampler.create(s.sampling(), config.vocabSize(), s.choiceIndex(), s.seed(),
                    s.promptTokens(), s.generatedTokens(), s.endTokens());
            lastSample[s.slot()] = -1;
        }
        batch.clear();
        int maxTop = 0;
        int rows = 0;
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            batch.add(slots.blockTable(slot), plan.position(e), plan.samples(e));
            if (plan.isFeedback(e)) {
                // after a failed sample the engine discards this slot's results; any valid id will do
                batch.token(Math.max(0, lastSample[slot]));
            } else {
                for (int t = 0; t < plan.tokenCount(e); t++) {
                    batch.token(plan.token(e, t));
                }
            }
            if (plan.samples(e)) {
                if (rows == rowEntry.length) {
                    rowEntry = Arrays.copyOf(rowEntry, 2 * rows);
                }
                rowEntry[rows++] = e;
                var sampling = slots.sequence(slot).sampling();
                maxTop = Math.max(maxTop, sampling.logprobs() ? sampling.topLogprobs() : 0);
            }
        }
        StepResult result = new StepResult(plan.entryCount(), maxTop);
        if (batch.size() > 0) {
            forward.forward(batch, store);
            sample(plan, rows, result);
        }
        return StepHandle.completed(result);
    }

    /**
     * Samples every row of logits where it lies, rows spread over the threads: each row depends only on
     * its own logits and its slot's sampler, so the split changes nothing.
     */
    private void sample(StepPlan plan, int rows, StepResult result) {
        float[] logits = forward.logits();
        int vocab = config.vocabSize();
        // about a copy, a scan and (when sampling) an exp per vocabulary entry, in multiply-adds
        long workPerRow = 8L * vocab;
        parallel.forRange(rows, workPerRow, (chunk, start, end) -> {
            float[] scratch = sampleScratch[chunk];
            for (int r = start; r < end; r++) {
                int e = rowEntry[r];
                int slot = plan.slot(e);
                Sampler sampler = samplers[slot];
                long[] mask = null;
                if (plan.hasMask(e)) {
                    mask = maskScratch[chunk];
                    plan.copyMask(e, mask, 0);
                }
                try {
                    int token = sampler.sample(logits, r * vocab, scratch, mask);
                    result.setToken(e, token, sampler.logprob());
                    for (int i = 0; i < sampler.topLogprobCount(); i++) {
                        result.setTop(e, i, sampler.topLogprobToken(i), sampler.topLogprobValue(i));
                    }
                    lastSample[slot] = token;
                } catch (RuntimeException failure) {
                    result.setFailure(e, failure.getMessage());
                    lastSample[slot] = -1;
                }
            }
        });
    }

    /**
     * The reference logits path, for tests: runs the sequences with their whole block tables and
     * returns the logits of those that asked. Checks token ids and block tables, not block conflicts.
     */
    StepOutput step(StepInput input) {
        checkReady();
        int blockSize = store.layout().blockSize();
        batch.clear();
        for (int i = 0; i < input.sequences().size(); i++) {
            SequenceStep s = input.sequences().get(i);
            int needed = KvLayout.blocksFor(s.end(), blockSize);
            for (int b = 0; b < needed; b++) {
                if (b >= s.blockCount() || s.block(b) < 0 || s.block(b) >= store.layout().blockCount()) {
                    throw new IllegalArgumentException("sequence " + i + " of the step: positions 0.." + s.end()
                            + " need " + needed + " valid blocks of " + blockSize + " in the cache");
                }
            }
            batch.add(s.blockTable(), s.position(), s.wantLogits());
            for (int t = 0; t < s.tokenCount(); t++) {
                if (s.token(t) < 0 || s.token(t) >= config.vocabSize()) {
                    throw new IllegalArgumentException("sequence " + i + " of the step: token " + t + " has id "
                            + s.token(t) + ", outside the vocabulary 0.." + (config.vocabSize() - 1));
                }
                batch.token(s.token(t));
            }
        }
        forward.forward(batch, store);
        float[] logits = forward.logits();
        int vocab = config.vocabSize();
        float[][] out = new float[input.sequences().size()][];
        int row = 0;
        for (int i = 0; i < out.length; i++) {
            if (input.sequences().get(i).wantLogits()) {
                out[i] = Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab);
                row++;
            }
        }
        return new StepOutput(out);
    }

    private void checkReady() {
        checkOpen();
        if (store == null) {
            throw new IllegalStateException("no KV cache: call allocateKvCache before the first step");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this CpuExecutor is closed");
        }
    }

    /** Stops the worker threads and, if this executor opened the model file, unmaps it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        store = null;
        slots = null;
        parallel.close();
        if (source != null) {
            try {
                source.close();
            } catch (Exception e) {
                throw new IllegalStateException("could not close the model file", e);
            }
        }
    }
}
