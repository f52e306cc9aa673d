package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A deliberately plain Llama/Qwen2 forward pass for checking the executor: one sequence, one token at a
 * time, double precision, naive loops, hyperparameters read straight from the metadata map. It shares
 * no code with the engine beyond the GGUF tensor record, so a bug in one is unlikely to hide in the
 * other. F32 tensors only.
 */
final class ReferenceLlama {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Function<String, Optional<GgufTensor>> tensors;
    private final boolean neox;
    private final int dim;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int hd;
    private final double eps;
    private final double[] invFreq;
    private final List<List<double[]>> keys = new ArrayList<>();
    private final List<List<double[]>> values = new ArrayList<>();

    ReferenceLlama(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        this.tensors = tensors;
        String arch = (String) md.get("general.architecture");
        this.neox = arch.equals("qwen2");
        this.dim = num(md, arch + ".embedding_length", null).intValue();
        this.layers = num(md, arch + ".block_count", null).intValue();
        this.heads = num(md, arch + ".attention.head_count", null).intValue();
        this.kvHeads = num(md, arch + ".attention.head_count_kv", heads).intValue();
        this.hd = num(md, arch + ".attention.key_length", dim / heads).intValue();
        this.eps = num(md, arch + ".attention.layer_norm_rms_epsilon", null).doubleValue();
        double base = num(md, arch + ".rope.freq_base", 10000.0).doubleValue();
        String scaling = (String) md.getOrDefault(arch + ".rope.scaling.type", "linear");
        double factor = num(md, arch + ".rope.scaling.factor", 1.0).doubleValue();
        Optional<double[]> divisors = tensors.apply("rope_freqs.weight").map(ReferenceLlama::vector);

        invFreq = new double[hd / 2];
        for (int i = 0; i < hd / 2; i++) {
            double f = 1.0 / Math.pow(base, (2.0 * i) / hd);
            if (divisors.isPresent()) {
                f = f / divisors.get()[i];
            } else if (scaling.equals("llama3")) {
                // Llama 3.1 (HF transformers' _compute_llama3_parameters), scaling the wavelength.
                double low = num(md, arch + ".rope.scaling.low_freq_factor", 1.0).doubleValue();
                double high = num(md, arch + ".rope.scaling.high_freq_factor", 4.0).doubleValue();
                double orig = num(md, arch + ".rope.scaling.original_context_length", 8192).doubleValue();
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
        for (int l = 0; l < layers; l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    private static Number num(Map<String, Object> md, String key, Number fallback) {
        Object v = md.get(key);
        if (v == null) {
            if (fallback == null) {
                throw new IllegalArgumentException("missing " + key);
            }
            return fallback;
        }
        return (Number) v;
    }

    /** Runs the next token of the sequence (at position = tokens seen so far) and returns its logits. */
    double[] next(int token) {
        int pos = keys.get(0).size();
        double[][] embedding = matrix("token_embd.weight");
        double[] x = embedding[token].clone();
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, vector(b + "attn_norm.weight"));
            double[] q = plus(times(matrix(b + "attn_q.weight"), xn), optionalVector(b + "attn_q.bias"));
            double[] k = plus(times(matrix(b + "attn_k.weight"), xn), optionalVector(b + "attn_k.bias"));
            double[] v = plus(times(matrix(b + "attn_v.weight"), xn), optionalVector(b + "attn_v.bias"));
            for (int h = 0; h < heads; h++) {
                rotate(q, h * hd, pos);
            }
            for (int h = 0; h < kvHeads; h++) {
                rotate(k, h * hd, pos);
            }
            keys.get(l).add(k);
            values.get(l).add(v);

            double[] attended = new double[heads * hd];
            for (int h = 0; h < heads; h++) {
                int kvh = h / (heads / kvHeads);
                double[] w = new double[pos + 1];
                for (int p = 0; p <= pos; p++) {
                    double s = 0;
                    for (int i = 0; i < hd; i++) {
                        s += q[h * hd + i] * keys.get(l).get(p)[kvh * hd + i];
                    }
                    w[p] = s / Math.sqrt(hd);
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double s : w) {
                    max = Math.max(max, s);
                }
                double total = 0;
                for (int p = 0; p <= pos; p++) {
                    w[p] = Math.exp(w[p] - max);
                    total += w[p];
                }
                for (int p = 0; p <= pos; p++) {
                    for (int i = 0; i < hd; i++) {
                        attended[h * hd + i] += w[p] / total * values.get(l).get(p)[kvh * hd + i];
                    }
                }
            }
            x = plus(x, times(matrix(b + "attn_output.weight"), attended));

            xn = rmsnorm(x, vector(b + "ffn_norm.weight"));
            double[] gate = times(matrix(b + "ffn_gate.weight"), xn);
            double[] up = times(matrix(b + "ffn_up.weight"), xn);
            double[] hidden = new double[gate.length];
            for (int i = 0; i < gate.length; i++) {
                hidden[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            }
            x = plus(x, times(matrix(b + "ffn_down.weight"), hidden));
        }
        x = rmsnorm(x, vector("output_norm.weight"));
        double[][] head = tensors.apply("output.weight").isPresent() ? matrix("output.weight") : embedding;
        return times(head, x);
    }

    /** RoPE as a complex rotation of each pair: adjacent (2i, 2i+1) for llama, split (i, i+hd/2) for qwen2. */
    private void rotate(double[] vec, int off, int pos) {
        for (int i = 0; i < hd / 2; i++) {
            int re = neox ? off + i : off + 2 * i;
            int im = neox ? off + i + hd / 2 : off + 2 * i + 1;
            double angle = pos * invFreq[i];
            double a = vec[re];
            double b = vec[im];
            vec[re] = a * Math.cos(angle) - b * Math.sin(angle);
            vec[im] = a * Math.sin(angle) + b * Math.cos(angle);
        }
    }

    private double[] rmsnorm(double[] x, double[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * w[i];
        }
        return out;
    }

    private static double[] times(double[][] m, double[] x) {
        double[] out = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            for (int c = 0; c < x.length; c++) {
                out[r] += m[r][c] * x[c];
            }
        }
        return out;
    }

    private static double[] plus(double[] a, double[] b) {
        if (b == null) {
            return a;
        }
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    /** A 2-D tensor [ne0, ne1] as ne1 rows of ne0 values. */
    private double[][] matrix(String name) {
        GgufTensor t = tensors.apply(name).orElseThrow();
        int cols = (int) t.dims()[0];
        int rows = (int) t.dims()[1];
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r][c] = t.data().getAtIndex(F32, (long) r * cols + c);
            }
        }
        return m;
    }

    private double[] vector(String name) {
        return vector(tensors.apply(name).orElseThrow());
    }

    private double[] optionalVector(String name) {
        return tensors.apply(name).map(ReferenceLlama::vector).orElse(null);
    }

    private static double[] vector(GgufTensor t) {
        if (t.type() != GgmlType.F32) {
            throw new IllegalArgumentException("the reference reads F32 only: " + t);
        }
        double[] v = new double[(int) t.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.data().getAtIndex(F32, i);
        }
        return v;
    }
}
