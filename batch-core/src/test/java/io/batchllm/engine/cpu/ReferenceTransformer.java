package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.tensor.Dequantize;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the deliberately plain double-precision references of each architecture share: one sequence,
 * one token at a time, naive loops, hyperparameters read straight from the metadata map with
 * llama.cpp's defaults, and a KV history of plain arrays. They share no code with the engine beyond
 * the GGUF tensor record and the scalar reference decoder ({@link Dequantize}, itself checked against
 * hand-built blocks), so a bug in one is unlikely to hide in the other. Each subclass is one
 * architecture's layer, written out in full.
 */
abstract class ReferenceTransformer {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    protected final Map<String, Object> md;
    protected final Function<String, Optional<GgufTensor>> tensors;
    protected final String arch;
    protected final int dim;
    protected final int layers;
    protected final int heads;
    protected final int kvHeads;
    protected final int hd;
    protected final double eps;
    private final List<List<double[]>> keys = new ArrayList<>();
    private final List<List<double[]>> values = new ArrayList<>();
    private final Map<String, double[][]> matrices = new HashMap<>();

    ReferenceTransformer(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        this.md = md;
        this.tensors = tensors;
        this.arch = (String) md.get("general.architecture");
        this.dim = num("embedding_length", null).intValue();
        this.layers = num("block_count", null).intValue();
        this.heads = num("attention.head_count", null).intValue();
        this.kvHeads = num("attention.head_count_kv", heads).intValue();
        this.hd = num("attention.key_length", dim / heads).intValue();
        this.eps = num("attention.layer_norm_rms_epsilon", null).doubleValue();
        for (int l = 0; l < layers; l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    /** The reference of the model's architecture. */
    static ReferenceTransformer of(Map<String, Object> md, Function<String, Optional<GgufTensor>> tensors) {
        return switch ((String) md.get("general.architecture")) {
            case "llama", "qwen2" -> new ReferenceLlama(md, tensors);
            case "qwen3" -> new ReferenceQwen3(md, tensors);
            case "gemma2", "gemma3" -> new ReferenceGemma(md, tensors);
            case "phi3" -> new ReferencePhi3(md, tensors);
            default -> throw new IllegalArgumentException("no reference for " + md.get("general.architecture"));
        };
    }

    /** Runs the next token of the sequence (at position = tokens seen so far) and returns its logits. */
    abstract double[] next(int token);

    /**
     * The position of the token being run: the last layer's history length, as that layer stores the
     * token's K and V only after every RoPE of the token has been applied.
     */
    protected int position() {
        return keys.get(layers - 1).size();
    }

    /** {@code <arch>.<key>} as a number, or {@code fallback} (null: required). */
    protected Number num(String key, Number fallback) {
        Object v = md.get(arch + "." + key);
        if (v == null) {
            if (fallback == null) {
                throw new IllegalArgumentException("missing " + arch + "." + key);
            }
            return fallback;
        }
        return (Number) v;
    }

    /**
     * Stores this token's K and V for layer {@code l} and returns softmax(q·K / ·)·V over the visible
     * positions, per head: scores {@code scale · q·k}, soft-capped to {@code cap·tanh(s/cap)} when
     * {@code cap > 0}, over positions {@code pos - window + 1 .. pos} ({@code window} 0: all).
     */
    protected double[] attend(int l, double[] q, double[] k, double[] v, double scale, double cap, int window) {
        keys.get(l).add(k);
        values.get(l).add(v);
        int pos = keys.get(l).size() - 1;
        int first = window > 0 ? Math.max(0, pos - window + 1) : 0;
        double[] out = new double[heads * hd];
        for (int h = 0; h < heads; h++) {
            int kvh = h / (heads / kvHeads);
            double[] w = new double[pos + 1 - first];
            for (int p = first; p <= pos; p++) {
                double s = 0;
                for (int i = 0; i < hd; i++) {
                    s += q[h * hd + i] * keys.get(l).get(p)[kvh * hd + i];
                }
                s *= scale;
                w[p - first] = cap > 0 ? cap * Math.tanh(s / cap) : s;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double s : w) {
                max = Math.max(max, s);
            }
            double total = 0;
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.exp(w[i] - max);
                total += w[i];
            }
            for (int p = first; p <= pos; p++) {
                for (int i = 0; i < hd; i++) {
                    out[h * hd + i] += w[p - first] / total * values.get(l).get(p)[kvh * hd + i];
                }
            }
        }
        return out;
    }

    /** RoPE frequencies base^(-2i/dims) for the {@code dims/2} rotated pairs. */
    protected static double[] frequencies(double base, int dims) {
        double[] f = new double[dims / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(base, (2.0 * i) / dims);
        }
        return f;
    }

    /**
     * Rotates the first {@code 2·freq.length} values of each of {@code n} heads as complex pairs:
     * adjacent {@code (2i, 2i+1)} or, {@code neox}, split {@code (i, i + freq.length)}; the rotated
     * values are multiplied by {@code magnitude}.
     */
    protected void rope(double[] vec, int n, double[] freq, boolean neox, double magnitude) {
        int pos = position();
        for (int h = 0; h < n; h++) {
            int off = h * hd;
            for (int i = 0; i < freq.length; i++) {
                int re = neox ? off + i : off + 2 * i;
                int im = neox ? off + i + freq.length : off + 2 * i + 1;
                double angle = pos * freq[i];
                double a = vec[re];
                double b = vec[im];
                vec[re] = (a * Math.cos(angle) - b * Math.sin(angle)) * magnitude;
                vec[im] = (a * Math.sin(angle) + b * Math.cos(angle)) * magnitude;
            }
        }
    }

    protected double[] rmsnorm(double[] x, double[] w) {
        return rmsnorm(x, 0, x.length, w);
    }

    /** RMSNorm of {@code x[off, off+n)} with weights {@code w[0, n)}. */
    protected double[] rmsnorm(double[] x, int off, int n, double[] w) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += x[off + i] * x[off + i];
        }
        double inv = 1 / Math.sqrt(ss / n + eps);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = x[off + i] * inv * w[i];
        }
        return out;
    }

    /** RMSNorm of each head of {@code vec} ({@code n} heads of {@code hd}), in place. */
    protected void headNorm(double[] vec, int n, double[] w) {
        for (int h = 0; h < n; h++) {
            System.arraycopy(rmsnorm(vec, h * hd, hd, w), 0, vec, h * hd, hd);
        }
    }

    protected static double[] times(double[][] m, double[] x) {
        double[] out = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            for (int c = 0; c < x.length; c++) {
                out[r] += m[r][c] * x[c];
            }
        }
        return out;
    }

    protected static double[] plus(double[] a, double[] b) {
        if (b == null) {
            return a;
        }
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    /** down · (silu(gate · x) ⊙ up · x): SwiGLU. */
    protected static double[] swiglu(double[][] gate, double[][] up, double[][] down, double[] x) {
        double[] g = times(gate, x);
        double[] u = times(up, x);
        double[] hidden = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            hidden[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return times(down, hidden);
    }

    /** The LM head: {@code output.weight}, else the token embedding. */
    protected double[] head(double[] x) {
        return times(tensors.apply("output.weight").isPresent() ? matrix("output.weight") : matrix("token_embd.weight"),
                x);
    }

    /** A 2-D tensor [ne0, ne1] of any type as ne1 rows of ne0 values (decoded once). */
    protected double[][] matrix(String name) {
        return matrices.computeIfAbsent(name, n -> {
            GgufTensor t = tensors.apply(n).orElseThrow(() -> new IllegalArgumentException("no tensor " + n));
            int cols = (int) t.dims()[0];
            int rows = (int) t.dims()[1];
            float[] all = Dequantize.toFloat(t);
            double[][] m = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    m[r][c] = all[r * cols + c];
                }
            }
            return m;
        });
    }

    /** Rows {@code [from, from + count)} of a matrix. */
    protected static double[][] rows(double[][] m, int from, int count) {
        double[][] out = new double[count][];
        System.arraycopy(m, from, out, 0, count);
        return out;
    }

    protected double[] vector(String name) {
        return vector(tensors.apply(name).orElseThrow(() -> new IllegalArgumentException("no tensor " + name)));
    }

    protected double[] optionalVector(String name) {
        return tensors.apply(name).map(ReferenceTransformer::vector).orElse(null);
    }

    private static double[] vector(GgufTensor t) {
        if (t.type() != GgmlType.F32) {
            throw new IllegalArgumentException("1-D tensors are F32 in every file the references read: " + t);
        }
        double[] v = new double[(int) t.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.data().getAtIndex(F32, i);
        }
        return v;
    }
}
