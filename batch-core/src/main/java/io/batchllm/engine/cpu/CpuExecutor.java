package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The CPU {@link DeviceExecutor}: F32 activations and accumulation, weights read in place from the
 * mapped GGUF file through {@code Matrix} kernels, the Vector API for the rest, and a fixed pool of
 * {@code threads} (the calling thread plus {@code threads - 1} workers) splitting each matmul's rows.
 * The paged KV cache lives in F32 heap arrays reserved by {@link #allocateKvCache}.
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
    private CpuKvStore store;
    /** Per block: the step that last wrote it (see {@link #checkBlockConflicts}) and which sequence did. */
    private int[] writeStamp = new int[0];
    private int[] writer = new int[0];
    private int stepStamp;
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

    @Override
    public long kvBytesPerToken() {
        return CpuKvStore.bytesPerToken(config.blockCount(), config.kvDim());
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU: a quarter of the JVM's maximum heap ({@code -Xmx}), which leaves the rest for
     * requests, responses and the batch service.
     */
    @Override
    public long defaultKvCacheBytes() {
        return Runtime.getRuntime().maxMemory() / 4;
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU the storage is two F32 heap arrays per layer of {@code tokens × kvDim} floats
     * ({@link #kvBytesPerToken()} per position), zeroed now.
     */
    @Override
    public void allocateKvCache(KvLayout layout) {
        checkOpen();
        store = null; // let the old cache go before the new one is allocated
        store = new CpuKvStore(layout, config.blockCount(), config.kvDim());
        writeStamp = new int[layout.blockCount()];
        writer = new int[layout.blockCount()];
        stepStamp = 0;
    }

    @Override
    public KvLayout kvLayout() {
        return store == null ? null : store.layout();
    }

    @Override
    public StepOutput step(StepInput input) {
        checkOpen();
        if (store == null) {
            throw new IllegalStateException("no KV cache: call allocateKvCache before the first step");
        }
        validate(input.sequences());
        return forward.forward(input, store);
    }

    private void validate(List<SequenceStep> seqs) {
        int blockSize = store.layout().blockSize();
        int blocks = store.layout().blockCount();
        for (int i = 0; i < seqs.size(); i++) {
            SequenceStep s = seqs.get(i);
            String which = "sequence " + i + " of the step: ";
            int needed = KvLayout.blocksFor(s.end(), blockSize);
            if (s.blockCount() < needed) {
                throw new IllegalArgumentException(which + "positions 0.." + s.end() + " need " + needed
                        + " blocks of " + blockSize + " but its block table has " + s.blockCount());
            }
            for (int b = 0; b < needed; b++) {
                if (s.block(b) < 0 || s.block(b) >= blocks) {
                    throw new IllegalArgumentException(which + "block table entry " + b + " is " + s.block(b)
                            + ", outside the cache's blocks 0.." + (blocks - 1));
                }
            }
            for (int t = 0; t < s.tokenCount(); t++) {
                if (s.token(t) < 0 || s.token(t) >= config.vocabSize()) {
                    throw new IllegalArgumentException(which + "token " + t + " has id " + s.token(t)
                            + ", outside the vocabulary 0.." + (config.vocabSize() - 1));
                }
            }
        }
        checkBlockConflicts(seqs, blockSize);
    }

    /**
     * Refuses a step where two sequences write one block, or one reads a block another writes: the
     * result would depend on the order the device happens to run them in.
     */
    private void checkBlockConflicts(List<SequenceStep> seqs, int blockSize) {
        if (++stepStamp == Integer.MAX_VALUE) {
            Arrays.fill(writeStamp, 0);
            stepStamp = 1;
        }
        for (int i = 0; i < seqs.size(); i++) {
            SequenceStep s = seqs.get(i);
            for (int b = s.position() / blockSize; b <= (s.end() - 1) / blockSize; b++) {
                int block = s.block(b);
                if (writeStamp[block] == stepStamp && writer[block] != i) {
                    throw new IllegalArgumentException("sequence " + i + " of the step: it writes block " + block
                            + ", which sequence " + writer[block] + " of the step also writes");
                }
                writeStamp[block] = stepStamp;
                writer[block] = i;
            }
        }
        for (int i = 0; i < seqs.size(); i++) {
            SequenceStep s = seqs.get(i);
            for (int b = 0; b < s.position() / blockSize; b++) {
                int block = s.block(b);
                if (writeStamp[block] == stepStamp && writer[block] != i) {
                    throw new IllegalArgumentException("sequence " + i + " of the step: it reads block " + block
                            + ", which sequence " + writer[block] + " of the step writes");
                }
            }
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
