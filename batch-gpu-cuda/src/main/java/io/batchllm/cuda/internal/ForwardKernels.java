package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.cuda.internal.device.Kernel;
import io.batchllm.cuda.internal.device.KernelArgs;
import io.batchllm.cuda.internal.device.KernelModule;
import io.batchllm.cuda.internal.device.LaunchShape;
import io.batchllm.cuda.internal.device.Stream;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.RopeType;
import java.util.ArrayList;
import java.util.List;

/**
 * The executor's kernels, compiled for the device once, and their launches: each kernel's arguments
 * are built here and nowhere else, in the order of its C signature (see {@link KernelArgs}), and its
 * grid and block follow from the model's sizes. Thread counts depend on the model alone, never on the
 * batch, because a block reduction's order depends on its thread count: a row's result must not
 * depend on what else the launch holds.
 *
 * <p>Not thread safe. Closing unloads the modules.
 */
final class ForwardKernels implements AutoCloseable {
    /** Queries per attention tile ({@code ATTN_QUERIES} in attention.cu). */
    static final int ATTN_QUERIES = 16;
    /** Keys per attention chunk ({@code ATTN_KEYS}): split lengths are multiples of it. */
    static final int ATTN_KEYS = 32;
    /** Accumulators per attention thread ({@code ATTN_MAX_ACC}). */
    static final int ATTN_MAX_ACC = 32;
    /** Threads of the elementwise and bookkeeping kernels. */
    private static final int ELEMENTWISE_THREADS = 256;

    private final ModelConfig c;
    private final List<KernelModule> modules = new ArrayList<>();
    private final Kernel embed;
    private final Kernel rmsnorm;
    private final Kernel rope;
    private final Kernel attention;
    private final Kernel combine;
    private final Kernel silu;
    private final Kernel sample;
    private final Kernel feedback;
    private final Kernel appendBlocks;
    private final Kernel initHistory;
    private final int normThreads;
    private final int ropeThreads;
    private final int attentionThreads;
    private final int attentionShared;
    private final int sampleThreads;

    ForwardKernels(Gpu gpu, ModelConfig config) {
        this.c = config;
        try {
            KernelModule embedding = load(gpu, KernelSource.EMBEDDING);
            KernelModule norm = load(gpu, KernelSource.NORM);
            KernelModule ropeKv = load(gpu, KernelSource.ROPE_KV);
            KernelModule attn = load(gpu, KernelSource.ATTENTION);
            KernelModule ffn = load(gpu, KernelSource.FFN);
            KernelModule sampling = load(gpu, KernelSource.SAMPLING);
            KernelModule step = load(gpu, KernelSource.STEP);
            embed = embedding.kernel("embed_bf16");
            rmsnorm = norm.kernel("rmsnorm");
            rope = ropeKv.kernel("rope_kv_write");
            attention = attn.kernel("attention");
            combine = attn.kernel("attention_combine");
            silu = ffn.kernel("silu_mul");
            sample = sampling.kernel("sample_tokens");
            feedback = step.kernel("feedback_tokens");
            appendBlocks = step.kernel("append_blocks");
            initHistory = step.kernel("init_history");
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        int hd = config.headDim();
        this.normThreads = threads(config.embeddingLength());
        this.ropeThreads = threads((config.headCount() + config.headCountKv()) * Math.max(1, config.ropeDimension() / 2));
        // each thread holds up to ATTN_MAX_ACC of a tile's ATTN_QUERIES x head_dim accumulators
        int needed = (ATTN_QUERIES * hd + ATTN_MAX_ACC - 1) / ATTN_MAX_ACC;
        int t = 64;
        while (t < needed) {
            t <<= 1;
        }
        this.attentionThreads = t;
        if (attentionThreads > LaunchShape.MAX_THREADS) {
            throw new IllegalArgumentException("head size " + hd + " is too large for the attention kernel (at most "
                    + LaunchShape.MAX_THREADS * ATTN_MAX_ACC / ATTN_QUERIES + ")");
        }
        this.attentionShared = (2 * ATTN_KEYS * (hd + 1) + ATTN_QUERIES * hd + ATTN_QUERIES * ATTN_KEYS
                + 3 * ATTN_QUERIES) * Float.BYTES;
        this.sampleThreads = threads(Math.max(32, config.vocabSize() / 8));
    }

    private KernelModule load(Gpu gpu, KernelSource source) {
        KernelModule m = gpu.load(source);
        modules.add(m);
        return m;
    }

    /** A power of two from 32 to 256 covering {@code work} items, or 256 for more. */
    static int threads(int work) {
        int t = 32;
        while (t < work && t < ELEMENTWISE_THREADS) {
            t <<= 1;
        }
        return t;
    }

    private static int gridFor(long items) {
        return (int) Math.max(1, Math.min(1024, (items + ELEMENTWISE_THREADS - 1) / ELEMENTWISE_THREADS));
    }

    /** x[t] = embedding row tokens[t], widened to fp32. */
    void embed(Stream s, long x, long table, long tokens, int n) {
        embed.launch(LaunchShape.of(n, normThreads), s,
                KernelArgs.of().address(x).address(table).address(tokens).i32(c.embeddingLength()));
    }

    /** out[r] = bf16(rmsnorm(in[rows[r]] or in[r])) for {@code n} rows; {@code rows} 0 for "row r". */
    void rmsnorm(Stream s, long out, long in, long weight, long rows, int n) {
        rmsnorm.launch(LaunchShape.of(n, normThreads), s, KernelArgs.of().address(out).address(in).address(weight)
                .address(rows).i32(c.embeddingLength()).f32(c.rmsNormEps()));
    }

    /** Bias, RoPE and the K/V write into the cache for {@code n} tokens. */
    void ropeKvWrite(Stream s, long qkv, long bias, long kCache, long vCache, long positions, long tokenSlot,
                     long blockTables, int stride, long freqs, int blockSize, int n) {
        rope.launch(LaunchShape.of(n, ropeThreads), s, KernelArgs.of().address(qkv).address(bias).address(kCache)
                .address(vCache).address(positions).address(tokenSlot).address(blockTables).i32(stride).address(freqs)
                .i32(c.headCount()).i32(c.headCountKv()).i32(c.headDim()).i32(c.ropeDimension())
                .i32(c.ropeType() == RopeType.NEOX ? 1 : 0).i32(blockSize));
    }

    /** Attention of {@code n} tokens in {@code tiles} tiles, then the merge of their splits when a context may need several. */
    void attention(Stream s, long out, long partialAcc, long partialMl, long qkv, long kCache, long vCache,
                   long positions, long tokenSlot, long blockTables, int stride, long tileFirst, long tileCount,
                   int blockSize, int splitLen, int splits, int tiles, int n) {
        attention.launch(new LaunchShape(tiles, c.headCount(), splits, attentionThreads, attentionShared), s,
                KernelArgs.of().address(out).address(partialAcc).address(partialMl).address(qkv).address(kCache)
                        .address(vCache).address(positions).address(tokenSlot).address(blockTables).i32(stride)
                        .address(tileFirst).address(tileCount).i32(c.headCount()).i32(c.headCountKv()).i32(c.headDim())
                        .i32(blockSize).i32(splitLen).f32((float) (1.0 / Math.sqrt(c.headDim()))));
        if (splits > 1) {
            combine.launch(new LaunchShape(n, c.headCount(), 1, threads(c.headDim()), 0), s, KernelArgs.of()
                    .address(out).address(partialAcc).address(partialMl).address(positions).i32(c.headCount())
                    .i32(c.headDim()).i32(splits).i32(splitLen));
        }
    }

    /** out[t] = bf16(silu(gate) * up) from the fused gate||up rows of {@code n} tokens. */
    void siluMul(Stream s, long out, long gateUp, int n) {
        long total = (long) n * c.feedForwardLength();
        silu.launch(LaunchShape.of(gridFor(total), ELEMENTWISE_THREADS), s,
                KernelArgs.of().address(out).address(gateUp).i32(c.feedForwardLength()).i64(total));
    }

    /** The sampling of {@code rows} rows of logits (see sample_tokens for the buffers). */
    void sample(Stream s, SlotBuffers b, long rowSlot, long rowGenIndex, long rowMasked, int rows) {
        sample.launch(LaunchShape.of(rows, sampleThreads), s, KernelArgs.of().address(b.outToken())
                .address(b.outLogprob()).address(b.outTopIds()).address(b.outTopLogprobs()).address(b.outStatus())
                .pointer(b.lastToken).pointer(b.logits).pointer(b.keys).pointer(b.weights).pointer(b.params)
                .address(rowSlot).address(rowGenIndex).pointer(b.counts).pointer(b.promptMask).pointer(b.biasTokens())
                .pointer(b.biasValues()).pointer(b.endTokens()).pointer(b.tokenMasks).address(rowMasked)
                .i32(c.vocabSize()));
    }

    /** tokens[at[i]] = the last sample of slot[i], for {@code n} fed-back decodes. */
    void feedback(Stream s, long tokens, long at, long slot, long lastToken, int n) {
        feedback.launch(LaunchShape.of(gridFor(n), ELEMENTWISE_THREADS), s,
                KernelArgs.of().address(tokens).address(at).address(slot).address(lastToken).i32(n));
    }

    /** Writes {@code n} (slot, index, block) triples into the block tables. */
    void appendBlocks(Stream s, long blockTables, int stride, long triples, int n) {
        appendBlocks.launch(LaunchShape.of(gridFor(n), ELEMENTWISE_THREADS), s,
                KernelArgs.of().address(blockTables).i32(stride).address(triples).i32(n));
    }

    /** Sets the counts and prompt masks of {@code starts} penalized sequences (see init_history). */
    void initHistory(Stream s, SlotBuffers b, long tokens, long info, int starts) {
        initHistory.launch(LaunchShape.of(starts, ELEMENTWISE_THREADS), s,
                KernelArgs.of().pointer(b.counts).pointer(b.promptMask).address(tokens).address(info).i32(c.vocabSize()));
    }

    @Override
    public void close() {
        for (KernelModule m : modules) {
            m.close();
        }
        modules.clear();
    }
}
