package io.batchllm.engine.cpu;

import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.RopeType;
import io.batchllm.engine.model.SlidingWindow;
import io.batchllm.engine.tensor.Matrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The forward pass of the Llama family for one ragged step, in F32: Llama/Mistral, Qwen2/3, Gemma 2/3
 * and Phi-3 share this pass, and each architecture's differences are switched on where they act
 * (named in {@link io.batchllm.engine.model.Architecture}): scaled embeddings, QK-norm, per-layer
 * RoPE tables, sliding-window layers, score soft-capping, post-norms, GeGLU, final soft-capping.
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
    private final float queryScale;
    /** The distinct RoPE frequency tables (one, or Gemma 3's two), and which one each layer uses. */
    private final double[][] ropeTables;
    private final int[] ropeTableOfLayer;
    /** LongRoPE's magnitude factor, applied to the rotated values (1 for every other model). */
    private final float ropeAttnFactor;

    // Per-token bookkeeping for the current step.
    private int[] tokenIds = new int[0];
    private int[] tokenPositions = new int[0];
    /** The block table of the sequence each token belongs to. */
    private int[][] tokenTables = new int[0][];
    private CpuKvStore kv;
    private int blockSize;
    /** Per RoPE table, each token's cos and sin per rotated pair. */
    private float[][] ropeCos;
    private float[][] ropeSin;

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
        this.queryScale = c.queryScale();
        this.ropeAttnFactor = (float) c.ropeScaling().attnFactor();
        List<double[]> tables = new ArrayList<>();
        this.ropeTableOfLayer = new int[c.blockCount()];
        for (int l = 0; l < c.blockCount(); l++) {
            ropeTableOfLayer[l] = indexOf(tables, model.ropeFrequencies()[l]);
        }
        this.ropeTables = tables.toArray(double[][]::new);
        this.ropeCos = new float[ropeTables.length][0];
        this.ropeSin = new float[ropeTables.length][0];
        this.scores = new float[parallel.threads()][0];
    }

    /** The index of {@code table} among {@code tables}, added at the end if it is not there yet. */
    private static int indexOf(List<double[]> tables, double[] table) {
        for (int i = 0; i < tables.size(); i++) {
            if (Arrays.equals(tables.get(i), table)) {
                return i;
            }
        }
        tables.add(table);
        return tables.size() - 1;
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
        for (int table = 0; table < ropeTables.length; table++) {
            double[] freq = ropeTables[table];
            for (t = 0; t < tokens; t++) {
                for (int i = 0; i < ropePairs; i++) {
                    double angle = tokenPositions[t] * freq[i];
                    ropeCos[table][t * ropePairs + i] = (float) Math.cos(angle) * ropeAttnFactor;
                    ropeSin[table][t * ropePairs + i] = (float) Math.sin(angle) * ropeAttnFactor;
                }
            }
        }
    }

    /** The tokens' embedding rows; Gemma multiplies them by √dim. */
    private void embed(int tokens) {
        float scale = c.embeddingScale();
        for (int t = 0; t < tokens; t++) {
            model.tokenEmbedding().dequantizeRow(tokenIds[t], x, t * dim);
            if (scale != 1f) {
                VectorMath.scale(x, t * dim, dim, scale);
            }
        }
    }

    /**
     * x += post(Wo · attention(rope(qk(Wq·n + bq)), rope(qk(Wk·n + bk)), Wv·n + bv)) with n = rmsnorm(x):
     * the biases only for Qwen2, {@code qk} Qwen3's and Gemma 3's per-head RMSNorm, {@code post}
     * Gemma's RMSNorm of the attention output (identity otherwise).
     */
    private void attentionBlock(int l, CpuModel.Layer layer, int tokens) {
        rmsnorm(xb, x, layer.attnNorm(), tokens);
        matmul(layer.wq(), xb, tokens, q);
        matmul(layer.wk(), xb, tokens, k);
        matmul(layer.wv(), xb, tokens, v);
        addBias(q, layer.bq(), tokens);
        addBias(k, layer.bk(), tokens);
        addBias(v, layer.bv(), tokens);
        if (layer.qNorm() != null) {
            headNorm(q, layer.qNorm(), c.headCount(), tokens);
            headNorm(k, layer.kNorm(), c.headCountKv(), tokens);
        }
        int table = ropeTableOfLayer[l];
        rope(q, c.headCount(), tokens, table);
        rope(k, c.headCountKv(), tokens, table);
        storeKv(l, tokens);
        attention(l, tokens);
        matmul(layer.wo(), att, tokens, xb2);
        if (layer.attnPostNorm() != null) {
            rmsnorm(xb2, xb2, layer.attnPostNorm(), tokens);
        }
        VectorMath.add(x, xb2, tokens * dim);
    }

    /**
     * x += post(W_down · (act(W_gate·n) ⊙ W_up·n)) with n = rmsnorm(x): SwiGLU ({@code act} = SiLU), or
     * Gemma's GeGLU ({@code act} = tanh-approximated GELU) followed by its post-FFN RMSNorm.
     */
    private void ffnBlock(CpuModel.Layer layer, int tokens) {
        rmsnorm(xb, x, layer.ffnNorm(), tokens);
        matmul(layer.gate(), xb, tokens, hb);
        matmul(layer.up(), xb, tokens, hb2);
        gate(tokens);
        matmul(layer.down(), hb, tokens, xb2);
        if (layer.ffnPostNorm() != null) {
            rmsnorm(xb2, xb2, layer.ffnPostNorm(), tokens);
        }
        VectorMath.add(x, xb2, tokens * dim);
    }

    /**
     * hb = act(hb) ⊙ hb2, tokens split across the pool: it is elementwise (so the split cannot change
     * a value) and, with a scalar exp (or tanh) per element, the largest piece of non-matmul work in a
     * step; run on one thread it left the other core idle.
     */
    private void gate(int tokens) {
        int ffn = c.feedForwardLength();
        boolean gelu = c.architecture().gemmaBlock();
        parallel.forRange(tokens, 16L * ffn, (chunk, start, end) -> {
            if (gelu) {
                VectorMath.geglu(hb, hb2, start * ffn, end * ffn);
            } else {
                VectorMath.swiglu(hb, hb2, start * ffn, end * ffn);
            }
        });
    }

    private void rmsnorm(float[] out, float[] in, float[] weight, int rows) {
        for (int t = 0; t < rows; t++) {
            VectorMath.rmsnorm(out, t * dim, in, t * dim, weight, c.rmsNormEps());
        }
    }

    /** QK-norm: an RMSNorm (with {@code weight}, [headDim]) over each head of each token, in place. */
    private void headNorm(float[] vec, float[] weight, int heads, int tokens) {
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int off = (t * heads + h) * headDim;
                VectorMath.rmsnorm(vec, off, vec, off, weight, c.rmsNormEps());
            }
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
     * Rotates each head's first {@code ropeDimension} values by position-dependent angles (of RoPE
     * table {@code table}). NORM pairs adjacent values (the converter permuted llama's Q/K rows for
     * this); NEOX pairs i with i + ropeDimension/2, and a partial rotary dimension (Phi-4-mini) leaves
     * the head's last values as they are.
     */
    private void rope(float[] vec, int heads, int tokens, int table) {
        int stride = heads * headDim;
        int second = c.ropeType() == RopeType.NEOX ? ropePairs : 1;
        int step = c.ropeType() == RopeType.NEOX ? 1 : 2;
        float[] cosines = ropeCos[table];
        float[] sines = ropeSin[table];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int base = t * stride + h * headDim;
                for (int i = 0; i < ropePairs; i++) {
                    float cos = cosines[t * ropePairs + i];
                    float sin = sines[t * ropePairs + i];
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
     * own sequence's keys at positions {@code [first, its position]}, found block by block through its
     * block table, which includes the keys this step just stored for earlier tokens of the same
     * sequence. {@code first} is 0, or on a sliding-window layer the window's first position (the
     * blocks before it stay in the cache for the global layers and for prefix sharing; this layer
     * just does not read them). Query heads share a KV head in groups (GQA). Work items are split
     * across the pool.
     *
     * <p>Per block, the scores of all its visible positions come from one
     * {@link VectorMath#transposedScores} call (a vector of positions at a time, no per-position lane
     * sum), Gemma 2 then soft-caps them, and the weighted sum comes from one
     * {@link VectorMath#weightedSum} call (the output head in registers across the block's positions).
     *
     * <p>Batch invariance: each score is a dot product in an order fixed by the head size alone, the
     * softmax and the weighted sum run over positions first, first + 1, … in that order whatever the
     * batch, the chunking or the blocks, and one thread does a whole item, so a token's result does not
     * depend on what else is in the step.
     */
    private void attention(int l, int tokens) {
        int heads = c.headCount();
        int group = c.groupSize();
        float[] keys = kv.keys(l);
        float[] values = kv.values(l);
        SlidingWindow window = c.slidingWindow();
        float cap = c.attentionSoftcap();
        long workPerItem = 2L * headDim * longestVisible;
        parallel.forRange(tokens * heads, workPerItem, (chunk, start, end) -> {
            float[] s = scores[chunk];
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int last = tokenPositions[t];
                int first = window.firstVisible(l, last);
                int count = last + 1 - first;
                int[] table = tokenTables[t];
                int qOff = t * qDim + h * headDim;
                int kvHead = h / group;
                for (int p = first; p <= last; ) {
                    int block = table[p / blockSize];
                    int offset = p % blockSize;
                    int n = Math.min(last + 1 - p, blockSize - offset);
                    int rows = CpuKvStore.keyRow(block, blockSize, kvDim, kvHead, headDim) + offset;
                    VectorMath.transposedScores(q, qOff, keys, rows, blockSize, n, headDim, queryScale, s, p - first);
                    p += n;
                }
                if (cap > 0) {
                    VectorMath.softcap(s, 0, count, cap);
                }
                VectorMath.softmax(s, count);
                Arrays.fill(att, qOff, qOff + headDim, 0f);
                for (int p = first; p <= last; ) {
                    int block = table[p / blockSize];
                    int offset = p % blockSize;
                    int n = Math.min(last + 1 - p, blockSize - offset);
                    VectorMath.weightedSum(s, p - first, values, (block * blockSize + offset) * kvDim + kvHead * headDim,
                            kvDim, n, att, qOff, headDim);
                    p += n;
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
        float cap = c.finalSoftcap();
        if (cap > 0) {
            // Gemma 2's final soft-cap, elementwise, so split over the whole rows × vocab range
            parallel.forRange(rows * vocab, 16, (chunk, start, end) -> VectorMath.softcap(logits, start, end, cap));
        }
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
        for (int table = 0; table < ropeTables.length; table++) {
            ropeCos[table] = new float[n * ropePairs];
            ropeSin[table] = new float[n * ropePairs];
        }
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
