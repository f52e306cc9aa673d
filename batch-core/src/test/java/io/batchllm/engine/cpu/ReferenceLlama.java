package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufTensor;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The plain double-precision Llama/Qwen2 forward pass (see {@link ReferenceTransformer}): RMSNorm,
 * RoPE (adjacent pairs for llama, split for qwen2) with Llama 3.1 and linear scaling, GQA attention
 * (over a sliding window on every layer when a Mistral-style file gives
 * {@code attention.sliding_window}), Q/K/V biases when the file has them, SwiGLU.
 */
final class ReferenceLlama extends ReferenceTransformer {
    private final boolean neox;
    private final double[] invFreq;
    private final int window;

    ReferenceLlama(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        super(md, tensors);
        this.neox = arch.equals("qwen2");
        this.window = num("attention.sliding_window", 0).intValue();
        double base = num("rope.freq_base", 10000.0).doubleValue();
        String scaling = (String) md.getOrDefault(arch + ".rope.scaling.type", "linear");
        double factor = num("rope.scaling.factor", 1.0).doubleValue();
        Optional<double[]> divisors = tensors.apply("rope_freqs.weight").map(t -> vector("rope_freqs.weight"));

        invFreq = frequencies(base, hd);
        for (int i = 0; i < hd / 2; i++) {
            double f = invFreq[i];
            if (divisors.isPresent()) {
                f = f / divisors.get()[i];
            } else if (scaling.equals("llama3")) {
                // Llama 3.1 (HF transformers' _compute_llama3_parameters), scaling the wavelength.
                double low = num("rope.scaling.low_freq_factor", 1.0).doubleValue();
                double high = num("rope.scaling.high_freq_factor", 4.0).doubleValue();
                double orig = num("rope.scaling.original_context_length", 8192).doubleValue();
                double wavelen = 2 * Math.PI / f;
                if (wavelen > orig / low) {
                    f = f / factor;
                } else if (wavelen >= orig / high) {
                    double smooth = (orig / wavelen - low) / (high - low);
                    f = (1 - smooth) * f / factor + smooth * f;
                }
            }
            if (scaling.equals("linear")) {
                f = f / factor;
            }
            invFreq[i] = f;
        }
    }

    @Override
    double[] next(int token) {
        double[] x = matrix("token_embd.weight")[token].clone();
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, vector(b + "attn_norm.weight"));
            double[] q = plus(times(matrix(b + "attn_q.weight"), xn), optionalVector(b + "attn_q.bias"));
            double[] k = plus(times(matrix(b + "attn_k.weight"), xn), optionalVector(b + "attn_k.bias"));
            double[] v = plus(times(matrix(b + "attn_v.weight"), xn), optionalVector(b + "attn_v.bias"));
            rope(q, heads, invFreq, neox, 1);
            rope(k, kvHeads, invFreq, neox, 1);
            double[] attended = attend(l, q, k, v, 1 / Math.sqrt(hd), 0, window);
            x = plus(x, times(matrix(b + "attn_output.weight"), attended));

            xn = rmsnorm(x, vector(b + "ffn_norm.weight"));
            x = plus(x, swiglu(matrix(b + "ffn_gate.weight"), matrix(b + "ffn_up.weight"),
                    matrix(b + "ffn_down.weight"), xn));
        }
        return head(rmsnorm(x, vector("output_norm.weight")));
    }
}
