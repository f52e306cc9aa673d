package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Blas;
import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.cuda.internal.device.Graph;
import io.batchllm.cuda.internal.device.PinnedBuffer;
import io.batchllm.cuda.internal.device.Stream;
import io.batchllm.engine.EngineLimits;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.model.DeviceDefaults;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SlotTable;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.sampling.SamplingParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The CUDA {@link DeviceExecutor}: the model's weights in bf16 on the GPU (uploaded once), the paged
 * KV cache and every sequence's state kept there, the forward pass as cuBLAS GEMMs and the NVRTC
 * kernels, and the sampling on the device, so that a step sends only what changed and gets back only
 * the sampled tokens and the logprobs asked for.
 *
 * <p><b>A step</b> ({@link #submit}) is checked by the {@link SlotTable}, then queued on one stream
 * and answered by a handle at once: the new sequences' settings, biases, end tokens and penalty
 * histories; the blocks appended to block tables; then one forward pass per {@link #stepTokens()}
 * tokens (a larger step runs as several passes over the same buffers): fed-back tokens filled in from
 * the slots' last samples, embedding, and per layer RMSNorm, the fused QKV GEMM, RoPE with the K/V
 * write into the cache, attention, the output GEMM adding into the residual stream (beta = 1),
 * RMSNorm, the fused gate‖up GEMM, SiLU·up and the down GEMM adding into the residual stream; then
 * the final RMSNorm of the sampling rows only, the LM head of those rows, and the sampling kernel (which
 * applies a sampling entry's token mask, uploaded with the pass, after the logprobs).
 * The results are copied into pinned memory and read when the handle is awaited. Up to
 * {@value #STEPS_IN_FLIGHT} steps may be in flight; a further submit first waits for the oldest.
 *
 * <p><b>Batch invariance.</b> Each kernel computes a row from that row alone, with block sizes fixed
 * by the model, and attention is one kernel for decodes and prompt chunks (see attention.cu), so a
 * sequence's tokens do not depend on its batch mates, its chunking, slot or blocks, or a restart.
 * The GEMMs are cuBLAS's: on a GPU their summation order per element may change with the number of
 * tokens (cuBLAS picks its kernels by shape), which only the GPU check can show.
 *
 * <p><b>CUDA graphs.</b> A pass of fed-back decodes only (the steady state) is padded to the next size
 * of {@link GraphBatchSizes} with rows of a spare greedy slot, and replayed from a graph captured the
 * first time that size runs: one launch instead of ~10 per layer. Off with {@link Options#graphs()}.
 *
 * <p>Not thread safe (see {@link DeviceExecutor}). Owns its {@link Gpu} and closes it.
 */
public final class CudaExecutor implements DeviceExecutor {
    /**
     * Sequences the GPU suggests when the user sets none: a decode step reads every weight once however
     * many sequences it has, and up to a few hundred (an H100's bf16 ridge point is about 295) the step
     * stays bound by that read, so each sequence more is nearly free.
     */
    public static final int DEFAULT_MAX_SEQUENCES = 256;
    /** Tokens of one forward pass, and the step budget the GPU suggests. */
    public static final int DEFAULT_STEP_TOKENS = 2048;
    /** Steps queued on the device at once before a submit waits for the oldest (the engine keeps two). */
    static final int STEPS_IN_FLIGHT = 3;
    /** A context is attended in at most this many splits (each at least {@value #MIN_SPLIT_LENGTH} positions). */
    static final int MAX_SPLITS = 8;
    /** Shortest split of a long context. */
    static final int MIN_SPLIT_LENGTH = 512;
    /** cuBLAS's workspace, fixed so that GEMMs can be captured into graphs (32 MiB, cuBLAS's advice for Hopper). */
    static final long BLAS_WORKSPACE_BYTES = 32L << 20;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final SamplingParams PADDING_SAMPLING = SamplingParams.builder().temperature(0).build();

    /**
     * How the executor runs.
     *
     * @param stepTokens tokens per forward pass (its activation buffers' size), at least 1; default
     *     {@value #DEFAULT_STEP_TOKENS}
     * @param graphs whether decode passes are replayed as CUDA graphs; default true
     * @param sizing how much of the free memory the KV cache may take
     */
    public record Options(int stepTokens, boolean graphs, KvCacheSizing sizing) {
        /** The backend option ({@code true} or {@code false}) that sets {@link #graphs()}. */
        public static final String GRAPHS_OPTION = "cuda_graphs";
        /** The backend options the CUDA backend reads besides the engine's ({@link EngineLimits#OPTIONS}). */
        public static final Set<String> NAMES = Set.of(KvCacheSizing.FRACTION_OPTION, GRAPHS_OPTION);
        /** The defaults. */
        public static final Options DEFAULTS = new Options(DEFAULT_STEP_TOKENS, true, KvCacheSizing.DEFAULTS);

        public Options {
            if (stepTokens < 1) {
                throw new IllegalArgumentException("stepTokens must be at least 1, got " + stepTokens);
            }
        }

        /**
         * The options of a backend configuration: {@value KvCacheSizing#FRACTION_OPTION},
         * {@value #GRAPHS_OPTION}, and the engine's {@value EngineLimits#MAX_STEP_TOKENS_OPTION} for the
         * pass size when it is set (the step budget then fits one pass).
         *
         * @throws IllegalArgumentException naming an option that is unknown or has a bad value
         */
        public static Options fromBackendOptions(Map<String, String> options) {
            EngineLimits limits = EngineLimits.fromOptions(options, NAMES);
            String graphs = options.getOrDefault(GRAPHS_OPTION, "true").strip();
            if (!graphs.equals("true") && !graphs.equals("false")) {
                throw new IllegalArgumentException("backend option " + GRAPHS_OPTION + " must be true or false, got '"
                        + options.get(GRAPHS_OPTION) + "'");
            }
            int stepTokens = limits.maxStepTokens() == EngineLimits.AUTO ? DEFAULT_STEP_TOKENS : limits.maxStepTokens();
            return new Options(stepTokens, graphs.equals("true"),
                    KvCacheSizing.fromOption(options.get(KvCacheSizing.FRACTION_OPTION)));
        }
    }

    private final ModelConfig config;
    private final Options options;
    private final Gpu gpu;
    private final Stream stream;
    private final Blas blas;
    private final DeviceBuffer blasWorkspace;
    private final ForwardKernels kernels;
    private final DeviceWeights weights;
    private final ForwardPass forward;
    private final SlotWriter slotWriter;
    private final TokenBuffers work;
    private final PassInput pass;
    private final int splitLength;
    private final int splits;
    private final DeviceDefaults defaults;
    private final StagingArea[] staging = new StagingArea[STEPS_IN_FLIGHT];
    private final CudaStepHandle[] inFlight = new CudaStepHandle[STEPS_IN_FLIGHT];
    private int nextStaging;

    private KvLayout layout;
    private DeviceBuffer kv;
    private SlotBuffers slotState;
    private SlotTable slots;
    /** Per slot: the generated-token index of its next sample. */
    private int[] generated = new int[0];
    /** One token mask, copied out of a plan on its way to pinned memory. */
    private final long[] maskRow;
    private GraphBatchSizes graphSizes;
    private final Map<Integer, Graph> graphs = new TreeMap<>();
    private boolean closed;

    /**
     * Uploads {@code weights} to {@code gpu} and compiles the kernels. The weights are read only here;
     * the executor takes ownership of {@code gpu}.
     *
     * @throws IllegalArgumentException if the model's shape is one the kernels cannot run
     * @throws IllegalStateException if the device cannot hold the weights and buffers
     */
    public CudaExecutor(Gpu gpu, ModelWeights weights, Options options) {
        this.config = weights.config();
        this.maskRow = new long[SlotBuffers.tokenMaskWords(config.vocabSize())];
        try {
            CudaModelSupport.check(config, "the model");
        } catch (IllegalArgumentException e) {
            closeQuietly(gpu, e);
            throw e;
        }
        this.options = options;
        this.gpu = gpu;
        this.splitLength = splitLength(config.contextLength());
        this.splits = (config.contextLength() + splitLength - 1) / splitLength;
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            stream = open(opened, gpu.newStream());
            blas = open(opened, gpu.blas(stream));
            blasWorkspace = open(opened, gpu.allocate(BLAS_WORKSPACE_BYTES));
            blas.useWorkspace(blasWorkspace);
            kernels = open(opened, new ForwardKernels(gpu, config));
            this.weights = open(opened, DeviceWeights.upload(gpu, stream, weights));
            work = open(opened, new TokenBuffers(gpu, config, options.stepTokens(), splits));
            forward = new ForwardPass(config, stream, blas, kernels, work, this.weights, splitLength, splits);
            slotWriter = new SlotWriter(stream, kernels);
            pass = new PassInput(options.stepTokens());
            defaults = suggest();
        } catch (RuntimeException | Error e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                closeQuietly(opened.get(i), e);
            }
            closeQuietly(gpu, e);
            throw e;
        }
    }

    /**
     * Opens a GGUF model and uploads it to the device {@code gpu} opens (once the file checked out);
     * the file is closed again once its weights are on the device.
     *
     * @throws io.batchllm.engine.gguf.ModelFormatException naming the file and what is wrong with it
     */
    public static CudaExecutor load(Path gguf, Supplier<Gpu> gpu, Options options) {
        try (GgufFile file = GgufFile.open(gguf)) {
            ModelWeights weights = ModelWeights.fromGguf(file);
            CudaModelSupport.check(weights.config(), gguf.toString());
            return new CudaExecutor(gpu.get(), weights, options);
        }
    }

    private static <T extends AutoCloseable> T open(List<AutoCloseable> opened, T resource) {
        opened.add(resource);
        return resource;
    }

    private static void closeQuietly(AutoCloseable c, Throwable cause) {
        try {
            c.close();
        } catch (Exception | Error e) {
            cause.addSuppressed(e);
        }
    }

    /** Split length of a context: at most {@value #MAX_SPLITS} splits, a multiple of the attention chunk. */
    static int splitLength(int contextLength) {
        int keys = ForwardKernels.ATTN_KEYS;
        int perSplit = (contextLength + MAX_SPLITS - 1) / MAX_SPLITS;
        return Math.max(MIN_SPLIT_LENGTH, (perSplit + keys - 1) / keys * keys);
    }

    /** What to suggest, from the memory left once the weights and buffers are in. */
    private DeviceDefaults suggest() {
        long free = gpu.memoryInfo()[0];
        int rows = Math.min(DEFAULT_MAX_SEQUENCES, options.stepTokens());
        long slotBytes = SlotBuffers.bytes(config, new KvLayout(16, 1), DEFAULT_MAX_SEQUENCES, rows);
        long cache = Math.max(0, options.sizing().budget(free) - slotBytes);
        return new DeviceDefaults(DEFAULT_MAX_SEQUENCES, options.stepTokens(), cache);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** The device this executor runs on. */
    public GpuDevice device() {
        return gpu.device();
    }

    /** Tokens one forward pass takes; a larger step runs as several passes. */
    public int stepTokens() {
        return options.stepTokens();
    }

    /**
     * {@inheritDoc}
     *
     * <p>On a GPU: {@value #DEFAULT_MAX_SEQUENCES} sequences, steps of {@link #stepTokens()} tokens, and
     * for the cache {@link KvCacheSizing#fraction()} of the memory free once the weights and working
     * buffers are allocated, less the reserve and the state of that many sequences.
     */
    @Override
    public DeviceDefaults defaults() {
        return defaults;
    }

    @Override
    public long kvBytesPerToken() {
        return KvCacheSizing.bytesPerToken(config);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the GPU: bf16 K and V of every layer in {@code blockCount + 1} blocks (the last is the
     * padding rows' spare block), every slot's state and the sampling buffers of
     * {@code min(slots, stepTokens)} rows (up to the next graph size, for the padding rows).
     */
    @Override
    public void allocateKvCache(KvLayout newLayout, int slotCount) {
        checkOpen();
        releaseCache();
        long kvBytes = 2L * config.blockCount() * ForwardPass.layerBytes(config, newLayout);
        int rows = Math.min(slotCount, options.stepTokens());
        GraphBatchSizes sizes = options.graphs() ? GraphBatchSizes.upTo(rows) : null;
        if (sizes != null) {
            // room for the padding rows of the largest graph
            rows = Math.min(options.stepTokens(), sizes.padded(rows).orElse(rows));
        }
        try {
            kv = gpu.allocate(kvBytes);
            slotState = new SlotBuffers(gpu, config, newLayout, slotCount, rows);
        } catch (IllegalStateException e) {
            releaseCache();
            throw new IllegalArgumentException("the KV cache of " + newLayout.blockCount() + " blocks of "
                    + newLayout.blockSize() + " positions (" + (kvBytes >> 20) + " MiB) and the state of " + slotCount
                    + " sequences do not fit on " + gpu.device().name() + ": " + e.getMessage()
                    + "; lower kv_cache_tokens or max_sequences", e);
        }
        slots = new SlotTable(newLayout, slotCount, config.vocabSize(), config.contextLength());
        generated = new int[slotCount];
        graphSizes = sizes;
        layout = newLayout;
        preparePaddingSlot();
    }

    /** The padding slot: greedy, its whole block table naming the spare block. */
    private void preparePaddingSlot() {
        StagingArea st = staging(0);
        st.reset();
        int pad = slotState.paddingSlot();
        MemorySegment params = st.take(SamplingSlots.BYTES);
        SamplingSlots.write(params, 0, PADDING_SAMPLING, 0, 0, new SamplingSlots.Lists(0, 0, 0));
        stream.upload(params, slotState.params, (long) pad * SamplingSlots.BYTES);
        MemorySegment table = st.take(4L * slotState.maxBlocks);
        for (int i = 0; i < slotState.maxBlocks; i++) {
            table.setAtIndex(INT, i, layout.blockCount());
        }
        stream.upload(table, slotState.blockTables, 4L * pad * slotState.maxBlocks);
        stream.synchronize();
    }

    @Override
    public KvLayout kvLayout() {
        return layout;
    }

    @Override
    public int slots() {
        return slots == null ? 0 : slots.slots();
    }

    @Override
    public StepHandle submit(StepPlan plan) {
        checkOpen();
        if (slots == null) {
            throw new IllegalStateException("no KV cache: call allocateKvCache before the first step");
        }
        slots.apply(plan);
        int ring = nextStaging;
        nextStaging = (nextStaging + 1) % STEPS_IN_FLIGHT;
        settle(ring);
        StagingArea st = staging(ring);
        st.reset();
        for (int i = 0; i < plan.startCount(); i++) {
            generated[plan.started(i).slot()] = plan.started(i).generatedCount();
        }
        if (slotWriter.write(plan, slots, slotState, st)) {
            // the bias and end-token lists moved: the captured graphs hold their old addresses
            dropGraphs();
        }
        int maxTop = 0;
        for (int e = 0; e < plan.entryCount(); e++) {
            if (plan.samples(e)) {
                maxTop = Math.max(maxTop, topLogprobs(slots.sequence(plan.slot(e)).sampling()));
            }
        }
        List<CudaStepHandle.PassOutputs> outputs = runPasses(plan, st, maxTop);
        CudaStepHandle handle = new CudaStepHandle(stream.record(), plan.entryCount(), maxTop, outputs);
        inFlight[ring] = handle;
        return handle;
    }

    private static int topLogprobs(SamplingParams p) {
        return p.logprobs() ? p.topLogprobs() : 0;
    }

    /** Waits for the step that last used staging area {@code ring}, keeping its result (or failure) in its handle. */
    private void settle(int ring) {
        CudaStepHandle h = inFlight[ring];
        if (h != null) {
            inFlight[ring] = null;
            h.settle();
        }
    }

    private StagingArea staging(int ring) {
        if (staging[ring] == null) {
            staging[ring] = new StagingArea(gpu, 1L << 20);
        }
        return staging[ring];
    }

    // --- forward passes

    /** Cuts the entries into passes of at most {@link #stepTokens()} tokens and runs them. */
    private List<CudaStepHandle.PassOutputs> runPasses(StepPlan plan, StagingArea st, int maxTop) {
        List<CudaStepHandle.PassOutputs> outputs = new ArrayList<>(1);
        pass.clear();
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            int n = plan.tokenCount(e);
            boolean fedBack = plan.isFeedback(e);
            int done = 0;
            while (done < n) {
                if (pass.room() == 0) {
                    runPass(plan, st, maxTop, outputs);
                    pass.clear();
                }
                int take = Math.min(pass.room(), n - done);
                int first = pass.addRun(slot, plan.position(e) + done, take, fedBack);
                if (!fedBack) {
                    for (int i = 0; i < take; i++) {
                        pass.token[first + i] = plan.token(e, done + i);
                    }
                }
                done += take;
                if (done == n && plan.samples(e)) {
                    pass.addRow(slot, generated[slot]++, first + take - 1, e,
                            topLogprobs(slots.sequence(slot).sampling()), plan.hasMask(e));
                }
            }
        }
        if (pass.tokens > 0) {
            runPass(plan, st, maxTop, outputs);
        }
        return outputs;
    }

    private void runPass(StepPlan plan, StagingArea st, int maxTop, List<CudaStepHandle.PassOutputs> outputs) {
        int graphSize = graphSize();
        if (graphSize > 0) {
            pass.padTo(graphSize, slotState.paddingSlot());
        }
        MemorySegment in = st.take(pass.byteSize());
        pass.write(in);
        stream.upload(in, work.input, 0);
        if (pass.anyMasked()) {
            uploadTokenMasks(plan, st);
        }
        long base = work.input.address();
        if (pass.feedbacks > 0) {
            kernels.feedback(stream, base + pass.tokenAt(), base + pass.feedbackAtAt(), base + pass.feedbackSlotAt(),
                    slotState.lastToken.address(), pass.feedbacks);
        }
        if (graphSize > 0) {
            graph(graphSize).launch(stream);
        } else {
            forward.queue(pass, slotState, kv, layout);
        }
        if (pass.rows > 0) {
            int stride = slotState.rows;
            MemorySegment out = st.take(maxTop > 0 ? SlotBuffers.outputBytes(stride) : 12L * stride);
            stream.download(slotState.outputs, 0, out);
            outputs.add(new CudaStepHandle.PassOutputs(pass.rows(), out, stride));
        }
    }

    /**
     * The masked rows' token masks, each at its row's place in the mask buffer (structured outputs),
     * copied from the plan through pinned memory; the sampling kernel reads them where the pass's row
     * flags say, so a graph replays them too.
     */
    private void uploadTokenMasks(StepPlan plan, StagingArea st) {
        int words = SlotBuffers.tokenMaskWords(config.vocabSize());
        int rows = pass.rows - pass.padding;
        MemorySegment masks = st.take(8L * words * rows);
        for (int r = 0; r < rows; r++) {
            if (pass.rowMasked[r] != 0) {
                plan.copyMask(pass.rowEntry[r], maskRow, 0);
                MemorySegment.copy(maskRow, 0, masks, LONG, 8L * words * r, words);
            }
        }
        stream.upload(masks, slotState.tokenMasks, 0);
    }

    /** The padded size whose graph runs this pass, or 0 to run it eagerly. */
    private int graphSize() {
        if (graphSizes == null || !pass.decodeOnly()) {
            return 0;
        }
        OptionalInt size = graphSizes.padded(pass.tokens);
        return size.isPresent() && size.getAsInt() <= slotState.rows && size.getAsInt() <= pass.capacity
                ? size.getAsInt() : 0;
    }

    /** The graph of a padded decode pass of {@code size} tokens, captured the first time it is needed. */
    private Graph graph(int size) {
        Graph g = graphs.get(size);
        if (g == null) {
            stream.beginCapture();
            try {
                forward.queue(pass, slotState, kv, layout);
            } finally {
                g = stream.endCapture();
            }
            graphs.put(size, g);
        }
        return g;
    }

    /**
     * For tests that compare logits: row {@code row} of the last pass's logits, after its bias and
     * penalties (none for a greedy sequence without them, whose row is the model's). Waits for the
     * device.
     */
    float[] logits(int row) {
        stream.synchronize();
        int vocab = config.vocabSize();
        try (PinnedBuffer host = gpu.allocatePinned(4L * vocab)) {
            stream.download(slotState.logits, 4L * row * vocab, host.segment());
            stream.synchronize();
            return host.segment().toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Frees the captured graphs (CUDA frees one that is still queued or running once it has finished). */
    private void dropGraphs() {
        for (Graph g : graphs.values()) {
            g.close();
        }
        graphs.clear();
    }

    /** The sizes a graph has been captured for, ascending (for tests). */
    List<Integer> capturedGraphSizes() {
        return List.copyOf(graphs.keySet());
    }

    // --- lifecycle

    /** Frees the cache and the slots' state (after every step in flight has finished). */
    private void releaseCache() {
        for (int i = 0; i < STEPS_IN_FLIGHT; i++) {
            settle(i);
        }
        stream.synchronize();
        dropGraphs();
        if (slotState != null) {
            slotState.close();
            slotState = null;
        }
        if (kv != null) {
            kv.close();
            kv = null;
        }
        slots = null;
        layout = null;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this CudaExecutor is closed");
        }
    }

    /** Waits for the steps in flight, then frees everything on the device and the device itself. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            releaseCache();
        } catch (RuntimeException e) {
            failure = e;
        }
        List<AutoCloseable> all = new ArrayList<>();
        for (StagingArea s : staging) {
            if (s != null) {
                all.add(s);
            }
        }
        all.addAll(List.of(work, weights, kernels, blasWorkspace, blas, stream, gpu));
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("could not free the CUDA executor's resources", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
