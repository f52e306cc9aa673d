package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvCache;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.model.SequenceStep;
import io.batchllm.engine.model.StepInput;
import io.batchllm.engine.model.StepOutput;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The CPU {@link DeviceExecutor}: F32 activations and accumulation, weights read in place from the
 * mapped GGUF file through {@code Matrix} kernels, the Vector API for the rest, and a fixed pool of
 * {@code threads} (the calling thread plus {@code threads - 1} workers) splitting each matmul's rows.
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

    /**
     * {@inheritDoc}
     *
     * <p>At most the model's {@code context_length}. Memory grows with use, up to
     * {@code 2 × blocks × maxTokens × kvDim} floats.
     */
    @Override
    public KvCache newKvCache(int maxTokens) {
        checkOpen();
        if (maxTokens < 1 || maxTokens > config.contextLength()) {
            throw new IllegalArgumentException("maxTokens must be in 1.." + config.contextLength()
                    + " (the model's context_length), is " + maxTokens);
        }
        return new CpuKvCache(this, config.blockCount(), config.kvDim(), maxTokens);
    }

    @Override
    public StepOutput step(StepInput input) {
        checkOpen();
        validate(input.sequences());
        StepOutput out = forward.forward(input);
        for (SequenceStep s : input.sequences()) {
            ((CpuKvCache) s.kvCache()).setLength(s.position() + s.tokenCount());
        }
        return out;
    }

    private void validate(List<SequenceStep> seqs) {
        Set<KvCache> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < seqs.size(); i++) {
            SequenceStep s = seqs.get(i);
            String which = "sequence " + i + " of the step: ";
            if (!(s.kvCache() instanceof CpuKvCache cache) || !cache.ownedBy(this)) {
                throw new IllegalArgumentException(which + "its KV cache was not created by this executor");
            }
            if (cache.isClosed()) {
                throw new IllegalArgumentException(which + "its KV cache is closed");
            }
            if (!seen.add(cache)) {
                throw new IllegalArgumentException(which + "its KV cache already appears earlier in the step");
            }
            if (s.position() > cache.length()) {
                throw new IllegalArgumentException(which + "position " + s.position() + " is past the cache's "
                        + cache.length() + " stored positions (positions must be contiguous)");
            }
            if ((long) s.position() + s.tokenCount() > cache.capacity()) {
                throw new IllegalArgumentException(which + "positions " + s.position() + ".." + (s.position()
                        + s.tokenCount()) + " exceed the cache's capacity " + cache.capacity());
            }
            for (int t = 0; t < s.tokenCount(); t++) {
                if (s.token(t) < 0 || s.token(t) >= config.vocabSize()) {
                    throw new IllegalArgumentException(which + "token " + t + " has id " + s.token(t)
                            + ", outside the vocabulary 0.." + (config.vocabSize() - 1));
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
