package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufTensor;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The plain double-precision Phi-3 forward pass (see {@link ReferenceTransformer}), from Microsoft's
 * description: Q, K and V are the first, next and last rows of {@code attn_qkv}; the FFN's
 * {@code ffn_up} holds the gate's rows, then the up projection's; split-pair RoPE over the first
 * {@code rope.dimension_count} values of each head, with LongRoPE: each frequency divided by the long
 * factor when the context is longer than {@code rope.scaling.original_context_length} (else the short
 * one) and the rotated values multiplied by {@code rope.scaling.attn_factor}; a sliding window on
 * every layer when the file gives one; SwiGLU.
 */
final class ReferencePhi3 extends ReferenceTransformer {
    private final double[] invFreq;
    private final double magnitude;
    private final int window;

    ReferencePhi3(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        super(md, tensors);
        int ropeDims = num("rope.dimension_count", hd).intValue();
        this.invFreq = frequencies(num("rope.freq_base", 10000.0).doubleValue(), ropeDims);
        int context = num("context_length", null).intValue();
        int original = num("rope.scaling.original_context_length", context).intValue();
        String factors = context > original ? "rope_factors_long.weight" : "rope_factors_short.weight";
        if (tensors.apply(factors).isPresent()) {
            double[] divisors = vector(factors);
            for (int i = 0; i < invFreq.length; i++) {
                invFreq[i] /= divisors[i];
            }
        }
        this.magnitude = num("rope.scaling.attn_factor", 1.0).doubleValue();
        this.window = num("attention.sliding_window", 0).intValue();
    }

    @Override
    double[] next(int token) {
        double[] x = matrix("token_embd.weight")[token].clone();
        int kvDim = kvHeads * hd;
        int ffn = num("feed_forward_length", null).intValue();
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, vector(b + "attn_norm.weight"));
            double[][] qkv = matrix(b + "attn_qkv.weight");
            double[] q = times(rows(qkv, 0, heads * hd), xn);
            double[] k = times(rows(qkv, heads * hd, kvDim), xn);
            double[] v = times(rows(qkv, heads * hd + kvDim, kvDim), xn);
            rope(q, heads, invFreq, true, magnitude);
            rope(k, kvHeads, invFreq, true, magnitude);
            double[] attended = attend(l, q, k, v, 1 / Math.sqrt(hd), 0, window);
            x = plus(x, times(matrix(b + "attn_output.weight"), attended));

            xn = rmsnorm(x, vector(b + "ffn_norm.weight"));
            double[][] gateUp = matrix(b + "ffn_up.weight");
            x = plus(x, swiglu(rows(gateUp, 0, ffn), rows(gateUp, ffn, ffn), matrix(b + "ffn_down.weight"), xn));
        }
        return head(rmsnorm(x, vector("output_norm.weight")));
    }
}
