package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufTensor;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The plain double-precision Gemma 2 / Gemma 3 forward pass (see {@link ReferenceTransformer}),
 * written from Google's description of the models:
 * <ul>
 *   <li>embeddings times √dim;
 *   <li>each layer: x += postnorm(attention(prenorm(x))); x += postnorm(geglu(prenorm(x)));
 *   <li>Gemma 3 only: RMSNorm of each Q and K head before RoPE;
 *   <li>queries scaled by 1/√query_pre_attn_scalar (the head size; embedding/heads for the 27B
 *       models of 46 and 62 layers);
 *   <li>Gemma 2: scores soft-capped at 50 (or the file's cap), even layers attend through a window
 *       of 4096 (or the file's); final logits soft-capped at 30 (or the file's);
 *   <li>Gemma 3: five window layers to each global one (l % 6 < 5, or the file's
 *       {@code attention.sliding_window_pattern}), window layers with RoPE base 10000
 *       unscaled, global layers with the file's base and linear scaling; soft-caps only if the file
 *       gives them;
 *   <li>GELU with the tanh approximation.
 * </ul>
 */
final class ReferenceGemma extends ReferenceTransformer {
    private final boolean gemma3;
    private final double[] globalFreq;
    private final double[] localFreq;
    private final double queryScale;
    private final double attnCap;
    private final double finalCap;
    private final int window;
    private final int pattern;

    ReferenceGemma(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        super(md, tensors);
        this.gemma3 = arch.equals("gemma3");
        double base = num("rope.freq_base", 10000.0).doubleValue();
        double factor = md.getOrDefault(arch + ".rope.scaling.type", "linear").equals("linear")
                ? num("rope.scaling.factor", 1.0).doubleValue() : 1.0;
        this.globalFreq = frequencies(base, hd);
        for (int i = 0; i < globalFreq.length; i++) {
            globalFreq[i] /= factor;
        }
        this.localFreq = gemma3 ? frequencies(num("rope.freq_base_swa", 10000.0).doubleValue(), hd) : globalFreq;
        boolean big = layers == (gemma3 ? 62 : 46);
        this.queryScale = 1 / Math.sqrt(big ? (double) (dim / heads) : hd);
        this.attnCap = num("attn_logit_softcapping", gemma3 ? 0 : 50).doubleValue();
        this.finalCap = num("final_logit_softcapping", gemma3 ? 0 : 30).doubleValue();
        this.window = num("attention.sliding_window", gemma3 ? 0 : 4096).intValue();
        this.pattern = num("attention.sliding_window_pattern", gemma3 ? 6 : 2).intValue();
    }

    /** Whether layer l attends through the window: all but every {@code pattern}-th layer. */
    private boolean local(int l) {
        return window > 0 && l % pattern < pattern - 1;
    }

    @Override
    double[] next(int token) {
        double[] x = matrix("token_embd.weight")[token].clone();
        for (int i = 0; i < dim; i++) {
            x[i] *= Math.sqrt(dim);
        }
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, vector(b + "attn_norm.weight"));
            double[] q = times(matrix(b + "attn_q.weight"), xn);
            double[] k = times(matrix(b + "attn_k.weight"), xn);
            double[] v = times(matrix(b + "attn_v.weight"), xn);
            if (gemma3) {
                headNorm(q, heads, vector(b + "attn_q_norm.weight"));
                headNorm(k, kvHeads, vector(b + "attn_k_norm.weight"));
            }
            double[] freq = local(l) ? localFreq : globalFreq;
            rope(q, heads, freq, true, 1);
            rope(k, kvHeads, freq, true, 1);
            double[] attended = attend(l, q, k, v, queryScale, attnCap, local(l) ? window : 0);
            double[] out = rmsnorm(times(matrix(b + "attn_output.weight"), attended),
                    vector(b + "post_attention_norm.weight"));
            x = plus(x, out);

            xn = rmsnorm(x, vector(b + "ffn_norm.weight"));
            double[] gate = times(matrix(b + "ffn_gate.weight"), xn);
            double[] up = times(matrix(b + "ffn_up.weight"), xn);
            double[] hidden = new double[gate.length];
            for (int i = 0; i < gate.length; i++) {
                double g = gate[i];
                double gelu = 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));
                hidden[i] = gelu * up[i];
            }
            x = plus(x, rmsnorm(times(matrix(b + "ffn_down.weight"), hidden), vector(b + "post_ffw_norm.weight")));
        }
        double[] logits = head(rmsnorm(x, vector("output_norm.weight")));
        if (finalCap > 0) {
            for (int i = 0; i < logits.length; i++) {
                logits[i] = finalCap * Math.tanh(logits[i] / finalCap);
            }
        }
        return logits;
    }
}
