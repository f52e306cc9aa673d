package io.batchllm.engine.cpu;

import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.RopeType;
import io.batchllm.engine.tensor.Matrix;
import java.util.Arrays;

/**
 * The Llama forward pass for one ragged step, in F32.
 *
 * <p>All {@code T} tokens of the step (every sequence's new tokens, back to back) go through each
 * matmul together: activations are {@code T} rows in one flat array, so each weight row is read once
 * per step rather than once per token. Only attention is per sequence: each token reads its own
 * sequence's cache up to its own position.
 *
 * <p>Scratch arrays are owned here and grown when a larger step arrives; nothing is allocated per
 * token, and the logits stay in one buffer ({@link #logits()}) for the executor to sample from. Not
 * thread safe (the executor runs one step at a time).
 */
final class LlamaForward {
    private final CpuModel model;
    private final ModelConfig c;
    private final Parallel parallel;
    private final int dim;
    private final int qDim;
    private final int kvDim;
    private final int headDim;
    private final int ropePairs;
    private final float attentionScale;

    // Per-token bookkeeping for the current step.
    private int[] tokenIds = new int[0];
    private int[] tokenPositions = new int[0];
    /** The block table of the sequence each token belongs to. */
    private int[][] tokenTables = new int[0][];
    private CpuKvStore kv;
    private int blockSize;
    private float[] ropeCos = new float[0];
    private float[] ropeSin = new float[0];

    // Activations: T rows each.
    private float[] x = new float[0];      // residual stream [T, dim]
    private float[] xb = new float[0];     // normed input / LM-head rows [T, dim]
    private float[] xb2 = new float[0];    // projection output before the residual add [T, dim]
    private float[] q = new float[0];      // [T, qDim]
    private float[] k = new float[0];      // [T, kvDim]
    private float[] v = new float[0];      // [T, kvDim]
    private float[] att = new float[0];    // attention output [T, qDim]
    private float[] hb = new float[0];     // FFN gate, then SwiGLU output [T, ffn]
    private float[] hb2 = new float[0];    // FFN up [T, ffn]
    private float[] logits = new float[0]; // [sequences wanting logits, vocab], in batch order
    private float[][] scores;              // attention weights, one row per parallel chunk
    private int longestVisible;            // most positions any token of the step attends to

    LlamaForward(CpuModel model, Parallel parallel) {
        this.model = model;
        this.c = model.config();
        this.parallel = parallel;
        this.dim = c.embeddingLength();
        this.qDim = c.queryDim();
        this.kvDim = c.kvDim();
        this.headDim = c.headDim();
        this.ropePairs = c.ropeDimension() / 2;
        this.attentionScale = (float) (1.0 / Math.sqrt(headDim));
        this.scores = new float[parallel.threads()][0];
    }

    /**
     * Runs the step; the batch has been validated against {@code kv}'s layout.
     *
     * @return how many rows of logits {@link #logits()} holds: one per sequence that wants them, in
     *     batch order
     */
    int forward(ForwardBatch batch, CpuKvStore kv) {
        this.kv = kv;
        this.blockSize = kv.layout().blockSize();
        int tokens = batch.tokenCount();
        prepare(batch, tokens);
        embed(tokens);
        for (int l = 0; l < c.blockCount(); l++) {
            CpuModel.Layer layer = model.layers().get(l);
            attentionBlock(l, layer, tokens);
            ffnBlock(layer, tokens);
        }
        int rows = logits(batch);
        // Drop the step's references so a replaced cache can be collected.
        Arrays.fill(tokenTables, 0, tokens, null);
        this.kv = null;
        return rows;
    }

    /** The logits of the last {@link #forward}: row {@code r} at {@code [r × vocab, (r+1) × vocab)}. */
    float[] logits() {
        return logits;
    }

    /** Lays the step's tokens out back to back and precomputes each token's RoPE rotation. */
    private void prepare(ForwardBatch batch, int tokens) {
        ensureScratch(tokens);
        int t = 0;
        int longest = 0;
        for (int s = 0; s < batch.size(); s++) {
            for (int i = 0; i < batch.count(s); i++, t++) {
                tokenIds[t] = batch.token(s, i);
                tokenPositions[t] = batch.position(s) + i;
                tokenTables[t] = batch.table(s);
            }
            longest = Math.max(longest, batch.position(s) + batch.count(s));
        }
        longestVisible = longest;
        for (int chunk = 0; chunk < scores.length; chunk++) {
            if (scores[chunk].length < longest) {
                scores[chunk] = new float[longest];
            }
        }
        double[] freq = model.ropeFrequencies();
        for (t = 0; t < tokens; t++) {
            for (int i = 0; i < ropePairs; i++) {
                double angle = tokenPositions[t] * freq[i];
                ropeCos[t * ropePairs + i] = (float) Math.cos(angle);
                ropeSin[t * ropePairs + i] = (float) Math.sin(angle);
            }
        }
    }

    private void embed(int tokens) {
        for (int t = 0; t < tokens; t++) {
            model.tokenEmbedding().dequantizeRow(tokenIds[t], x, t * dim);
        }
    }

    /** x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n) with n = rmsnorm(x). */
    private void attentionBlock(int l, CpuModel.Layer layer, int tokens) {
        rmsnorm(xb, x, layer.attnNorm(), tokens);
        matmul(layer.wq(), xb, tokens, q);
        matmul(layer.wk(), xb, tokens, k);
        matmul(layer.wv(), xb, tokens, v);
        addBias(q, layer.bq(), tokens);
        addBias(k, layer.bk(), tokens);
        addBias(v, layer.bv(), tokens);
        rope(q, c.headCount(), tokens);
        rope(k, c.headCountKv(), tokens);
        storeKv(l, tokens);
        attention(l, tokens);
        matmul(layer.wo(), att, tokens, xb2);
        VectorMath.add(x, xb2, tokens * dim);
    }

    /** x += W_down · (silu(W_gate·n) ⊙ W_up·n) with n = rmsnorm(x): SwiGLU. */
    private void ffnBlock(CpuModel.Layer layer, int tokens) {
        rmsnorm(xb, x, layer.ffnNorm(), tokens);
        matmul(layer.gate(), xb, tokens, hb);
        matmul(layer.up(), xb, tokens, hb2);
        swiglu(tokens);
        matmul(layer.down(), hb, tokens, xb2);
        VectorMath.add(x, xb2, tokens * dim);
    }

    /**
     * hb = silu(hb) ⊙ hb2, tokens split across the pool: it is elementwise (so the split cannot change
     * a value) and, with a scalar exp per element, the largest piece of non-matmul work in a step;
     * run on one thread it left the other core idle.
     */
    private void swiglu(int tokens) {
        int ffn = c.feedForwardLength();
        parallel.forRange(tokens, 16L * ffn, (chunk, start, end) ->
                VectorMath.swiglu(hb, hb2, start * ffn, end * ffn));
    }

    private void rmsnorm(float[] out, float[] in, float[] weight, int rows) {
        for (int t = 0; t < rows; t++) {
            VectorMath.rmsnorm(out, t * dim, in, t * dim, weight, c.rmsNormEps());
        }
    }

    /** out[t, :] = W · in[t, :] for every token, output rows split across the pool. */
    private void matmul(Matrix w, float[] in, int tokens, float[] out) {
        parallel.forRange(w.rows(), (long) w.cols() * tokens, (chunk, start, end) ->
                w.matmul(in, tokens, out, start, end));
    }

    private static void addBias(float[] out, float[] bias, int tokens) {
        if (bias == null) {
            return;
        }
        int n = bias.length;
        for (int t = 0; t < tokens; t++) {
            VectorMath.axpy(1f, bias, 0, out, t * n, n);
        }
    }

    /**
     * Rotates each head's first {@code ropeDimension} values by position-dependent angles. NORM pairs
     * adjacent values (the converter permuted llama's Q/K rows for this); NEOX pairs i with i + d/2.
     */
    private void rope(float[] vec, int heads, int tokens) {
        int stride = heads * headDim;
        int second = c.ropeType() == RopeType.NEOX ? ropePairs : 1;
        int step = c.ropeType() == RopeType.NEOX ? 1 : 2;
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int base = t * stride + h * headDim;
                for (int i = 0; i < ropePairs; i++) {
                    float cos = ropeCos[t * ropePairs + i];
                    float sin = ropeSin[t * ropePairs + i];
                    int a = base + i * step;
                    int b = a + second;
                    float x0 = vec[a];
                    float x1 = vec[b];
                    vec[a] = x0 * cos - x1 * sin;
                    vec[b] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    /**
     * Writes each token's K and V into the slot of its position: block table entry, then offset. V goes
     * in position-major ({@code kvDim} floats per slot); K goes in transposed within its block, one row
     * of {@code blockSize} floats per (KV head, dimension), so that attention can score a block's
     * positions a vector at a time (see {@link CpuKvStore}).
     */
    private void storeKv(int l, int tokens) {
        float[] keys = kv.keys(l);
        float[] values = kv.values(l);
        int kvHeads = c.headCountKv();
        for (int t = 0; t < tokens; t++) {
            int p = tokenPositions[t];
            int block = tokenTables[t][p / blockSize];
            int offset = p % blockSize;
            System.arraycopy(v, t * kvDim, values, (block * blockSize + offset) * kvDim, kvDim);
            int src = t * kvDim;
            for (int h = 0; h < kvHeads; h++) {
                int dst = CpuKvStore.keyRow(block, blockSize, kvDim, h, headDim) + offset;
                for (int d = 0; d < headDim; d++, src++, dst += blockSize) {
                    keys[dst] = k[src];
                }
            }
        }
    }

    /**
     * Causal self-attention, one (token, query head) pair per work item: the token's query against its
     * own sequence's keys at positions {@code [0, its position]}, found block by block through its block
     * table, which includes the keys this step just stored for earlier tokens of the same sequence.
     * Query heads share a KV head in groups (GQA). Work items are split across the pool.
     *
     * <p>Per block, the scores of all its visible positions come from one
     * {@link VectorMath#transposedScores} call (a vector of positions at a time, no per-position lane
     * sum), and the weighted sum from one {@link VectorMath#weightedSum} call (the output head in
     * registers across the block's positions).
     *
     * <p>Batch invariance: each score is a dot product in an order fixed by the head size alone, the
     * softmax and the weighted sum run over positions 0, 1, … in that order whatever the batch, the
     * chunking or the blocks, and one thread does a whole item, so a token's result does not depend on
     * what else is in the step.
     */
    private void attention(int l, int tokens) {
        int heads = c.headCount();
        int group = c.groupSize();
        float[] keys = kv.keys(l);
        float[] values = kv.values(l);
        long workPerItem = 2L * headDim * longestVisible;
        parallel.forRange(tokens * heads, workPerItem, (chunk, start, end) -> {
            float[] s = scores[chunk];
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int visible = tokenPositions[t] + 1;
                int[] table = tokenTables[t];
                int qOff = t * qDim + h * headDim;
                int kvHead = h / group;
                for (int p = 0; p < visible; p += blockSize) {
                    int block = table[p / blockSize];
                    int n = Math.min(visible - p, blockSize);
                    int rows = CpuKvStore.keyRow(block, blockSize, kvDim, kvHead, headDim);
                    VectorMath.transposedScores(q, qOff, keys, rows, blockSize, n, headDim, attentionScale, s, p);
                }
                VectorMath.softmax(s, visible);
                Arrays.fill(att, qOff, qOff + headDim, 0f);
                for (int p = 0; p < visible; p += blockSize) {
                    int block = table[p / blockSize];
                    int n = Math.min(visible - p, blockSize);
                    VectorMath.weightedSum(s, p, values, block * blockSize * kvDim + kvHead * headDim, kvDim, n,
                            att, qOff, headDim);
                }
            }
        });
    }

    /** Final norm and LM head, only for the last token of each sequence that wants logits. */
    private int logits(ForwardBatch batch) {
        int rows = 0;
        int last = -1;
        for (int s = 0; s < batch.size(); s++) {
            last += batch.count(s);
            if (batch.wantsLogits(s)) {
                VectorMath.rmsnorm(xb, rows * dim, x, last * dim, model.outputNorm(), c.rmsNormEps());
                rows++;
            }
        }
        if (rows == 0) {
            return 0;
        }
        int vocab = c.vocabSize();
        if (logits.length < rows * vocab) {
            logits = new float[rows * vocab];
        }
        matmul(model.output(), xb, rows, logits);
        return rows;
    }

    /** Grows the per-token arrays to hold {@code tokens} rows; a smaller step reuses them. */
    private void ensureScratch(int tokens) {
        if (tokenIds.length >= tokens) {
            return;
        }
        int n = Math.max(tokens, 2 * tokenIds.length);
        int ffn = c.feedForwardLength();
        tokenIds = new int[n];
        tokenPositions = new int[n];
        tokenTables = new int[n][];
        ropeCos = new float[n * ropePairs];
        ropeSin = new float[n * ropePairs];
        x = new float[n * dim];
        xb = new float[n * dim];
        xb2 = new float[n * dim];
        q = new float[n * qDim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        att = new float[n * qDim];
        hb = new float[n * ffn];
        hb2 = new float[n * ffn];
    }
}
