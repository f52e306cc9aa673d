package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufTensor;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The plain double-precision Qwen3 forward pass (see {@link ReferenceTransformer}): Qwen2's block
 * without biases, with an RMSNorm over each head of Q and of K (their own [head size] weights) after
 * the projections and before the split-pair RoPE; SwiGLU.
 */
final class ReferenceQwen3 extends ReferenceTransformer {
    private final double[] invFreq;

    ReferenceQwen3(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        super(md, tensors);
        this.invFreq = frequencies(num("rope.freq_base", 10000.0).doubleValue(), hd);
    }

    @Override
    double[] next(int token) {
        double[] x = matrix("token_embd.weight")[token].clone();
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, vector(b + "attn_norm.weight"));
            double[] q = times(matrix(b + "attn_q.weight"), xn);
            double[] k = times(matrix(b + "attn_k.weight"), xn);
            double[] v = times(matrix(b + "attn_v.weight"), xn);
            headNorm(q, heads, vector(b + "attn_q_norm.weight"));
            headNorm(k, kvHeads, vector(b + "attn_k_norm.weight"));
            rope(q, heads, invFreq, true, 1);
            rope(k, kvHeads, invFreq, true, 1);
            double[] attended = attend(l, q, k, v, 1 / Math.sqrt(hd), 0, 0);
            x = plus(x, times(matrix(b + "attn_output.weight"), attended));

            xn = rmsnorm(x, vector(b + "ffn_norm.weight"));
            x = plus(x, swiglu(matrix(b + "ffn_gate.weight"), matrix(b + "ffn_up.weight"),
                    matrix(b + "ffn_down.weight"), xn));
        }
        return head(rmsnorm(x, vector("output_norm.weight")));
    }
}
