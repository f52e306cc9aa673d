package io.batchllm.engine.model;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;

/**
 * A random-weight model built in memory, without a GGUF file: metadata in a map and F32 tensors over
 * native memory, named and shaped as llama.cpp writes them. Seeded, so every run sees the same weights.
 *
 * @param metadata GGUF metadata keys and values
 * @param tensors tensors by name
 */
public record SyntheticModel(Map<String, Object> metadata, Map<String, GgufTensor> tensors) {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static Builder llama() {
        return new Builder("llama");
    }

    public static Builder qwen2() {
        return new Builder("qwen2").qkvBias(true).freqBase(1_000_000.0);
    }

    /** Qwen3: per-head Q/K norms, heads wider than {@code dim / heads} (key_length 32 on dim 64). */
    public static Builder qwen3() {
        return new Builder("qwen3").qkNorm(true).keyLength(32).freqBase(1_000_000.0);
    }

    /** Gemma 2: post-norms, a window of 5 on the even layers, both soft-caps (small, so that they bite). */
    public static Builder gemma2() {
        return new Builder("gemma2").postNorms(true).keyLength(32).layers(3).key("attention.sliding_window", 5L)
                .key("attn_logit_softcapping", 2.5f).key("final_logit_softcapping", 4.0f);
    }

    /**
     * Gemma 3: post-norms and QK-norms, six layers so that the default pattern has five sliding-window
     * layers and a global one, linear RoPE scaling on the global layer only.
     */
    public static Builder gemma3() {
        return new Builder("gemma3").postNorms(true).qkNorm(true).keyLength(32).layers(6)
                .key("attention.sliding_window", 4L).freqBase(1_000_000.0).key("rope.scaling.type", "linear")
                .key("rope.scaling.factor", 8.0f);
    }

    /** Phi-3: fused QKV and gate‖up, LongRoPE factors (long ones, as the context exceeds the original), partial rotary. */
    public static Builder phi3() {
        return new Builder("phi3").fused(true).longRope(true).key("rope.dimension_count", 12L)
                .key("rope.scaling.original_context_length", 16L).key("rope.scaling.attn_factor", 1.2f);
    }

    /** The lookup {@link ModelWeights#from} takes. */
    public Function<String, Optional<GgufTensor>> lookup() {
        return name -> Optional.ofNullable(tensors.get(name));
    }

    public ModelWeights weights() {
        return ModelWeights.from(metadata, lookup());
    }

    /** A copy with one metadata key set (a null value removes it). */
    public SyntheticModel withMetadata(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(metadata);
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
        return new SyntheticModel(m, tensors);
    }

    /** A copy without one tensor. */
    public SyntheticModel withoutTensor(String name) {
        Map<String, GgufTensor> t = new LinkedHashMap<>(tensors);
        t.remove(name);
        return new SyntheticModel(metadata, t);
    }

    /** A copy with one tensor replaced by a random one of another shape (ne[0] first). */
    public SyntheticModel withTensor(String name, long... dims) {
        Map<String, GgufTensor> t = new LinkedHashMap<>(tensors);
        t.put(name, tensor(name, dims, new Random(1), 0.1, 0.0));
        return new SyntheticModel(metadata, t);
    }

    static GgufTensor tensor(String name, long[] dims, Random random, double scale, double offset) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        MemorySegment data = Arena.ofAuto().allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) {
            data.setAtIndex(F32, i, (float) (offset + scale * (2 * random.nextDouble() - 1)));
        }
        return new GgufTensor(name, GgmlType.F32, dims, data);
    }

    /** Hyperparameters of the model to build; a null optional key is left out of the metadata. */
    public static final class Builder {
        private final String arch;
        private int dim = 64;
        private int heads = 4;
        private Integer kvHeads = 2;
        private Integer keyLength;
        private int ffn = 96;
        private int layers = 2;
        private int vocab = 80;
        private int contextLength = 64;
        private Double freqBase;
        private boolean tied;
        private boolean qkvBias;
        private boolean ropeFreqs;
        private boolean qkNorm;
        private boolean postNorms;
        private boolean fused;
        private boolean longRope;
        private final Map<String, Object> extra = new LinkedHashMap<>();
        private long seed = 42;

        private Builder(String arch) {
            this.arch = arch;
        }

        public Builder dim(int v) {
            dim = v;
            return this;
        }

        public Builder heads(int v) {
            heads = v;
            return this;
        }

        public Builder kvHeads(Integer v) {
            kvHeads = v;
            return this;
        }

        public Builder keyLength(Integer v) {
            keyLength = v;
            return this;
        }

        public Builder ffn(int v) {
            ffn = v;
            return this;
        }

        public Builder layers(int v) {
            layers = v;
            return this;
        }

        public Builder vocab(int v) {
            vocab = v;
            return this;
        }

        public Builder freqBase(Double v) {
            freqBase = v;
            return this;
        }

        public Builder tied(boolean v) {
            tied = v;
            return this;
        }

        public Builder qkvBias(boolean v) {
            qkvBias = v;
            return this;
        }

        /** Adds a random {@code rope_freqs.weight} with divisors in [1, 8]. */
        public Builder ropeFreqs(boolean v) {
            ropeFreqs = v;
            return this;
        }

        /** Adds {@code attn_q_norm}/{@code attn_k_norm} [head size]. */
        public Builder qkNorm(boolean v) {
            qkNorm = v;
            return this;
        }

        /** Adds Gemma's {@code post_attention_norm} and {@code post_ffw_norm}. */
        public Builder postNorms(boolean v) {
            postNorms = v;
            return this;
        }

        /** Phi-3's layout: {@code attn_qkv} instead of Q, K, V; a double-height {@code ffn_up} and no gate. */
        public Builder fused(boolean v) {
            fused = v;
            return this;
        }

        /** Adds {@code rope_factors_long} and {@code rope_factors_short} with divisors in [1, 8] and [1, 2]. */
        public Builder longRope(boolean v) {
            longRope = v;
            return this;
        }

        /** Adds {@code <arch>.<key>} to the metadata. */
        public Builder key(String key, Object value) {
            extra.put(arch + "." + key, value);
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public SyntheticModel build() {
            Map<String, Object> md = new LinkedHashMap<>();
            md.put("general.architecture", arch);
            String p = arch + ".";
            md.put(p + "context_length", (long) contextLength);
            md.put(p + "embedding_length", (long) dim);
            md.put(p + "block_count", (long) layers);
            md.put(p + "feed_forward_length", (long) ffn);
            md.put(p + "attention.head_count", (long) heads);
            if (kvHeads != null) {
                md.put(p + "attention.head_count_kv", (long) kvHeads);
            }
            if (keyLength != null) {
                md.put(p + "attention.key_length", (long) keyLength);
                md.put(p + "attention.value_length", (long) keyLength);
            }
            md.put(p + "attention.layer_norm_rms_epsilon", 1e-5f);
            if (freqBase != null) {
                md.put(p + "rope.freq_base", freqBase.floatValue());
            }
            md.put(p + "vocab_size", (long) vocab);
            md.putAll(extra);

            int hd = keyLength != null ? keyLength : dim / heads;
            int q = heads * hd;
            int kv = (kvHeads != null ? kvHeads : heads) * hd;
            Object ropeDims = extra.get(p + "rope.dimension_count");
            int pairs = (ropeDims != null ? ((Number) ropeDims).intValue() : hd) / 2;
            Random r = new Random(seed);
            Map<String, GgufTensor> t = new LinkedHashMap<>();
            // Weights scaled by 1/sqrt(fan-in) keep activations O(1) through the layers.
            add(t, "token_embd.weight", r, 1.0, 0, dim, vocab);
            add(t, "output_norm.weight", r, 0.2, 1.0, dim);
            if (!tied) {
                add(t, "output.weight", r, 1 / Math.sqrt(dim), 0, dim, vocab);
            }
            if (ropeFreqs) {
                add(t, "rope_freqs.weight", r, 3.5, 4.5, pairs);
            }
            if (longRope) {
                add(t, "rope_factors_long.weight", r, 3.5, 4.5, pairs);
                add(t, "rope_factors_short.weight", r, 0.5, 1.5, pairs);
            }
            for (int i = 0; i < layers; i++) {
                String b = "blk." + i + ".";
                add(t, b + "attn_norm.weight", r, 0.2, 1.0, dim);
                if (fused) {
                    // rows: Q, then K, then V, each with its own scale as below
                    GgufTensor qkv = tensor(b + "attn_qkv.weight", new long[] {dim, q + 2L * kv}, r,
                            1.5 / Math.sqrt(dim), 0);
                    t.put(qkv.name(), qkv);
                } else {
                    add(t, b + "attn_q.weight", r, 1.5 / Math.sqrt(dim), 0, dim, q);
                    add(t, b + "attn_k.weight", r, 1.5 / Math.sqrt(dim), 0, dim, kv);
                    add(t, b + "attn_v.weight", r, 1 / Math.sqrt(dim), 0, dim, kv);
                }
                add(t, b + "attn_output.weight", r, 1 / Math.sqrt(q), 0, q, dim);
                if (qkvBias) {
                    add(t, b + "attn_q.bias", r, 0.5, 0, q);
                    add(t, b + "attn_k.bias", r, 0.5, 0, kv);
                    add(t, b + "attn_v.bias", r, 0.5, 0, kv);
                }
                if (qkNorm) {
                    add(t, b + "attn_q_norm.weight", r, 0.2, 1.0, hd);
                    add(t, b + "attn_k_norm.weight", r, 0.2, 1.0, hd);
                }
                if (postNorms) {
                    add(t, b + "post_attention_norm.weight", r, 0.2, 1.0, dim);
                }
                add(t, b + "ffn_norm.weight", r, 0.2, 1.0, dim);
                if (fused) {
                    add(t, b + "ffn_up.weight", r, 1 / Math.sqrt(dim), 0, dim, 2L * ffn);
                } else {
                    add(t, b + "ffn_gate.weight", r, 1 / Math.sqrt(dim), 0, dim, ffn);
                    add(t, b + "ffn_up.weight", r, 1 / Math.sqrt(dim), 0, dim, ffn);
                }
                add(t, b + "ffn_down.weight", r, 1 / Math.sqrt(ffn), 0, ffn, dim);
                if (postNorms) {
                    add(t, b + "post_ffw_norm.weight", r, 0.2, 1.0, dim);
                }
            }
            return new SyntheticModel(md, t);
        }

        private static void add(Map<String, GgufTensor> t, String name, Random r, double scale, double offset,
                                long... dims) {
            t.put(name, tensor(name, dims, r, scale, offset));
        }
    }
}
