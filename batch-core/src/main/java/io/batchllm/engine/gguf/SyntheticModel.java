package io.batchllm.engine.gguf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A complete model GGUF with seeded random weights, for tests and benchmarks at realistic sizes
 * without downloading a model. Its output is meaningless; its shapes, tensor names, metadata keys and
 * tokenizer are the ones llama.cpp reads, so the same file runs in BatchLLM and in llama.cpp.
 *
 * <p>The presets {@link #stories15M()} and {@link #stories110M()} are made as the llama.cpp reference
 * benchmark's synthetic models were (shared/reference/llamacpp-cpu-bench.md): llama2.c's shapes,
 * {@code context_length} 2048, matrices N(0, 0.02), RMSNorm weights 1.0, no {@code output.weight}
 * (tied to {@code token_embd}). The reference copied the Llama 2 tokenizer into its files; do the
 * same with {@link Builder#tokenizerFrom(Path)} and shared/tokenizer-vectors/ggml-vocab-llama-spm.gguf,
 * or keep the default synthetic SentencePiece vocabulary (see {@link #vocabSize()}).
 *
 * <p>Weights are a pure function of (seed, tensor, row): writing twice gives identical files.
 * 2-D weights use {@link #weightType()}; a weight whose rows do not fit that type's blocks falls back
 * as {@link #typeFor(long)} says. Norms and biases stay F32.
 *
 * <p>Immutable and thread safe; build with {@link #builder()} or a preset.
 */
public final class SyntheticModel {
    /** The reference synthetic models' context length. */
    public static final int DEFAULT_CONTEXT_LENGTH = 2048;
    /** Standard deviation of the random matrices and biases. */
    public static final float DEFAULT_WEIGHT_STD = 0.02f;
    /** llama2.c's RMSNorm epsilon. */
    public static final float DEFAULT_RMS_EPSILON = 1e-5f;
    /** llama's RoPE base. */
    public static final float DEFAULT_ROPE_FREQ_BASE = 10000f;
    public static final long DEFAULT_SEED = 0;

    private final String architecture;
    private final String name;
    private final int dim;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int ffnHidden;
    private final int vocabSize;
    private final int contextLength;
    private final GgmlType weightType;
    private final boolean tiedOutput;
    private final boolean qkvBias;
    private final float weightStd;
    private final float normJitter;
    private final float rmsEpsilon;
    private final float ropeFreqBase;
    private final long seed;
    private final String chatTemplate;
    private final Path tokenizerSource;
    private final int headDim;
    private final int ropeDimension;
    private final int slidingWindow;
    private final Float attentionSoftcap;
    private final Float finalSoftcap;
    private final float ropeScalingFactor;
    private final int longRopeOriginalContext;
    private final float ropeAttnFactor;
    private final float outputStd;

    private SyntheticModel(Builder b) {
        this.architecture = b.architecture;
        this.name = b.name;
        this.dim = b.dim;
        this.layers = b.layers;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads;
        this.ffnHidden = b.ffnHidden;
        this.vocabSize = b.vocabSize;
        this.contextLength = b.contextLength;
        this.weightType = b.weightType;
        this.tiedOutput = b.tiedOutput;
        this.qkvBias = b.qkvBias;
        this.weightStd = b.weightStd;
        this.normJitter = b.normJitter;
        this.rmsEpsilon = b.rmsEpsilon;
        this.ropeFreqBase = b.ropeFreqBase;
        this.seed = b.seed;
        this.chatTemplate = b.chatTemplate;
        this.tokenizerSource = b.tokenizerSource;
        this.headDim = b.headDim > 0 ? b.headDim : b.dim / b.heads;
        this.ropeDimension = b.ropeDimension > 0 ? b.ropeDimension : headDim;
        this.slidingWindow = b.slidingWindow;
        this.attentionSoftcap = b.attentionSoftcap;
        this.finalSoftcap = b.finalSoftcap;
        this.ropeScalingFactor = b.ropeScalingFactor;
        this.longRopeOriginalContext = b.longRopeOriginalContext;
        this.ropeAttnFactor = b.ropeAttnFactor;
        this.outputStd = b.outputStd != null ? b.outputStd : b.weightStd;
    }

    /** A builder with a tiny llama shape (dim 64, 2 layers, 4 heads, 2 KV heads, FFN 128, vocab 512). */
    public static Builder builder() {
        return new Builder();
    }

    /** llama2.c's stories15M shape: dim 288, 6 layers, 6 heads (MHA), FFN 768, vocab 32000; 15.19 M parameters. */
    public static Builder stories15M() {
        return new Builder().name("synth-15M").dim(288).layers(6).heads(6).kvHeads(6).ffnHidden(768)
                .vocabSize(32000);
    }

    /** llama2.c's stories110M shape: dim 768, 12 layers, 12 heads (MHA), FFN 2048, vocab 32000; 109.53 M parameters. */
    public static Builder stories110M() {
        return new Builder().name("synth-110M").dim(768).layers(12).heads(12).kvHeads(12).ffnHidden(2048)
                .vocabSize(32000);
    }

    public String architecture() {
        return architecture;
    }

    public int dim() {
        return dim;
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    /** Values per head: {@link Builder#headDim(int)}, else {@code dim / heads}. */
    public int headDim() {
        return headDim;
    }

    public int ffnHidden() {
        return ffnHidden;
    }

    /** Number of tokens; with {@link Builder#tokenizerFrom(Path)}, the copied vocabulary's size. */
    public int vocabSize() {
        return vocabSize;
    }

    public int contextLength() {
        return contextLength;
    }

    public GgmlType weightType() {
        return weightType;
    }

    public boolean tiedOutput() {
        return tiedOutput;
    }

    public boolean qkvBias() {
        return qkvBias;
    }

    public long seed() {
        return seed;
    }

    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /**
     * The type a 2-D weight with rows of {@code rowLength} values is stored as: {@link #weightType()}
     * when its blocks fit; otherwise the type with 32-value blocks that llama-quantize falls back to for
     * such tensors (Q2_K, Q3_K and IQ4_XS to IQ4_NL, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0), and F16
     * if not even 32 divides the row.
     */
    public GgmlType typeFor(long rowLength) {
        if (rowLength % weightType.blockSize() == 0) {
            return weightType;
        }
        GgmlType fallback = switch (weightType) {
            case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
        return rowLength % fallback.blockSize() == 0 ? fallback : GgmlType.F16;
    }

    /** Parameters in all tensors (tied output counted once). */
    public long parameterCount() {
        long n = 0;
        for (TensorSpec t : tensorSpecs()) {
            n += t.rows * t.cols;
        }
        return n;
    }

    /** One tensor to write: shape as (cols = ne[0], rows), and how its values are made. */
    private record TensorSpec(String name, long cols, long rows, boolean matrix, float base, float std) {
        long[] dims() {
            return rows == 1 ? new long[] {cols} : new long[] {cols, rows};
        }
    }

    private List<TensorSpec> tensorSpecs() {
        int qDim = heads * headDim;
        int kvDim = kvHeads * headDim;
        float normStd = normJitter;
        boolean qkNorm = architecture.equals("qwen3") || architecture.equals("gemma3");
        boolean gemma = architecture.startsWith("gemma");
        boolean phi3 = architecture.equals("phi3");
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec("token_embd.weight", dim, vocabSize, true, 0, weightStd));
        specs.add(new TensorSpec("output_norm.weight", dim, 1, false, 1, normStd));
        if (!tiedOutput) {
            specs.add(new TensorSpec("output.weight", dim, vocabSize, true, 0, outputStd));
        }
        if (longRopeOriginalContext > 0) {
            // LongRoPE's per-frequency divisors, around Phi-3's own magnitudes
            specs.add(new TensorSpec("rope_factors_long.weight", ropeDimension / 2, 1, false, 4, 0.5f));
            specs.add(new TensorSpec("rope_factors_short.weight", ropeDimension / 2, 1, false, 1.5f, 0.2f));
        }
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            specs.add(new TensorSpec(p + "attn_norm.weight", dim, 1, false, 1, normStd));
            if (phi3) {
                specs.add(new TensorSpec(p + "attn_qkv.weight", dim, qDim + 2L * kvDim, true, 0, weightStd));
            } else {
                specs.add(new TensorSpec(p + "attn_q.weight", dim, qDim, true, 0, weightStd));
                specs.add(new TensorSpec(p + "attn_k.weight", dim, kvDim, true, 0, weightStd));
                specs.add(new TensorSpec(p + "attn_v.weight", dim, kvDim, true, 0, weightStd));
            }
            if (qkvBias) {
                specs.add(new TensorSpec(p + "attn_q.bias", qDim, 1, false, 0, weightStd));
                specs.add(new TensorSpec(p + "attn_k.bias", kvDim, 1, false, 0, weightStd));
                specs.add(new TensorSpec(p + "attn_v.bias", kvDim, 1, false, 0, weightStd));
            }
            if (qkNorm) {
                specs.add(new TensorSpec(p + "attn_q_norm.weight", headDim, 1, false, 1, normStd));
                specs.add(new TensorSpec(p + "attn_k_norm.weight", headDim, 1, false, 1, normStd));
            }
            specs.add(new TensorSpec(p + "attn_output.weight", qDim, dim, true, 0, weightStd));
            if (gemma) {
                specs.add(new TensorSpec(p + "post_attention_norm.weight", dim, 1, false, 1, normStd));
            }
            specs.add(new TensorSpec(p + "ffn_norm.weight", dim, 1, false, 1, normStd));
            if (phi3) {
                specs.add(new TensorSpec(p + "ffn_up.weight", dim, 2L * ffnHidden, true, 0, weightStd));
            } else {
                specs.add(new TensorSpec(p + "ffn_gate.weight", dim, ffnHidden, true, 0, weightStd));
                specs.add(new TensorSpec(p + "ffn_up.weight", dim, ffnHidden, true, 0, weightStd));
            }
            specs.add(new TensorSpec(p + "ffn_down.weight", ffnHidden, dim, true, 0, weightStd));
            if (gemma) {
                specs.add(new TensorSpec(p + "post_ffw_norm.weight", dim, 1, false, 1, normStd));
            }
        }
        return specs;
    }

    /**
     * Writes the model. Memory use is one row of F32 at a time, so the 110M preset needs no more heap
     * than the tiny one.
     *
     * @throws java.io.UncheckedIOException if the file cannot be written
     * @throws ModelFormatException if {@link Builder#tokenizerFrom(Path)}'s file is unusable
     */
    public void write(Path path) {
        GgufWriter w = new GgufWriter();
        String a = architecture;
        w.putString("general.architecture", a);
        w.putString("general.name", name);
        w.putUInt32("general.file_type", fileType());
        w.putUInt32(a + ".context_length", contextLength);
        w.putUInt32(a + ".embedding_length", dim);
        w.putUInt32(a + ".block_count", layers);
        w.putUInt32(a + ".feed_forward_length", ffnHidden);
        w.putUInt32(a + ".attention.head_count", heads);
        w.putUInt32(a + ".attention.head_count_kv", kvHeads);
        if (headDim != dim / heads || dim % heads != 0) {
            w.putUInt32(a + ".attention.key_length", headDim);
            w.putUInt32(a + ".attention.value_length", headDim);
        }
        w.putUInt32(a + ".rope.dimension_count", ropeDimension);
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", rmsEpsilon);
        w.putFloat32(a + ".rope.freq_base", ropeFreqBase);
        w.putUInt32(a + ".vocab_size", vocabSize);
        writeArchitectureKeys(w);
        writeTokenizer(w);
        List<TensorSpec> specs = tensorSpecs();
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec t = specs.get(i);
            GgmlType type = t.matrix ? typeFor(t.cols) : GgmlType.F32;
            long tensorSeed = mix(seed, i);
            w.addTensor(t.name, type, t.dims(), (row, out) -> {
                // A generator per row keeps the values a pure function of (seed, tensor, row).
                SplittableRandom rnd = new SplittableRandom(mix(tensorSeed, row));
                for (int c = 0; c < out.length; c++) {
                    out[c] = t.std == 0 ? t.base : (float) (t.base + t.std * rnd.nextGaussian());
                }
            });
        }
        w.write(path);
    }

    /** The keys only some models have: window, caps, RoPE scaling (as llama.cpp's converter names them). */
    private void writeArchitectureKeys(GgufWriter w) {
        String a = architecture;
        if (slidingWindow > 0 || a.equals("phi3")) {
            // llama.cpp (the version compared against) refuses a phi3 file without the key; 0 means none
            w.putUInt32(a + ".attention.sliding_window", slidingWindow);
        }
        if (attentionSoftcap != null) {
            w.putFloat32(a + ".attn_logit_softcapping", attentionSoftcap);
        }
        if (finalSoftcap != null) {
            w.putFloat32(a + ".final_logit_softcapping", finalSoftcap);
        }
        if (ropeScalingFactor != 1f) {
            w.putString(a + ".rope.scaling.type", "linear");
            w.putFloat32(a + ".rope.scaling.factor", ropeScalingFactor);
        }
        if (longRopeOriginalContext > 0) {
            w.putUInt32(a + ".rope.scaling.original_context_length", longRopeOriginalContext);
            w.putFloat32(a + ".rope.scaling.attn_factor", ropeAttnFactor);
        }
    }

    private void writeTokenizer(GgufWriter w) {
        if (tokenizerSource != null) {
            try (GgufFile vocab = GgufFile.open(tokenizerSource)) {
                for (Map.Entry<String, Object> e : vocab.metadata().entrySet()) {
                    if (e.getKey().startsWith("tokenizer.") && !e.getKey().equals("tokenizer.chat_template")) {
                        w.put(e.getKey(), e.getValue());
                    }
                }
            }
        } else {
            SyntheticVocabulary v = SyntheticVocabulary.ofSize(vocabSize);
            w.putString("tokenizer.ggml.model", "llama");
            w.putString("tokenizer.ggml.pre", "default");
            w.putStrings("tokenizer.ggml.tokens", v.tokens);
            w.putFloat32Array("tokenizer.ggml.scores", v.scores);
            w.putInt32Array("tokenizer.ggml.token_type", v.types);
            w.putUInt32("tokenizer.ggml.bos_token_id", 1);
            w.putUInt32("tokenizer.ggml.eos_token_id", 2);
            w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
            w.putBool("tokenizer.ggml.add_bos_token", true);
            w.putBool("tokenizer.ggml.add_eos_token", false);
        }
        if (chatTemplate != null) {
            w.putString("tokenizer.chat_template", chatTemplate);
        }
    }

    /** llama.cpp's {@code llama_ftype} for a model whose matrices are all of one type. */
    private long fileType() {
        return switch (weightType) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q2_K -> 10;
            case Q3_K -> 11; // Q3_K_S: all matrices Q3_K
            case Q4_K -> 14; // Q4_K_S
            case Q5_K -> 16; // Q5_K_S
            case Q6_K -> 18;
            case IQ4_NL -> 25;
            case IQ4_XS -> 30;
            case BF16 -> 32;
        };
    }

    /** SplitMix64's finalizer over a combination of two values: well-spread seeds from small inputs. */
    private static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "SyntheticModel[" + architecture + " " + name + ", dim " + dim + ", " + layers + " layers, " + heads
                + "/" + kvHeads + " heads of " + headDim + ", ffn " + ffnHidden + ", vocab " + vocabSize + ", " + weightType
                + (tiedOutput ? ", tied" : "") + (qkvBias ? ", qkv bias" : "") + ", seed " + seed + "]";
    }

    /** Configures a {@link SyntheticModel}. Not thread safe; {@link #build()} takes a snapshot. */
    public static final class Builder {
        private String architecture = "llama";
        private String name = "synthetic";
        private int dim = 64;
        private int layers = 2;
        private int heads = 4;
        private int kvHeads = 2;
        private int ffnHidden = 128;
        private int vocabSize = 512;
        private int contextLength = DEFAULT_CONTEXT_LENGTH;
        private GgmlType weightType = GgmlType.F32;
        private boolean tiedOutput = true;
        private boolean qkvBias;
        private float weightStd = DEFAULT_WEIGHT_STD;
        private float normJitter;
        private float rmsEpsilon = DEFAULT_RMS_EPSILON;
        private float ropeFreqBase = DEFAULT_ROPE_FREQ_BASE;
        private long seed = DEFAULT_SEED;
        private String chatTemplate;
        private Path tokenizerSource;
        private int headDim;
        private int ropeDimension;
        private int slidingWindow;
        private Float attentionSoftcap;
        private Float finalSoftcap;
        private float ropeScalingFactor = 1f;
        private int longRopeOriginalContext;
        private float ropeAttnFactor = 1f;
        private Float outputStd;

        private Builder() {
        }

        /**
         * {@code llama} (default), {@code qwen2}, {@code qwen3}, {@code gemma2}, {@code gemma3} or
         * {@code phi3}: the metadata key prefix and the tensors each has (QK-norms for qwen3 and gemma3,
         * post-norms for the gemmas, fused {@code attn_qkv} and gate‖up {@code ffn_up} for phi3).
         */
        public Builder architecture(String architecture) {
            if (!List.of("llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3").contains(architecture)) {
                throw new IllegalArgumentException("architecture must be llama, qwen2, qwen3, gemma2, gemma3 or phi3, is "
                        + architecture);
            }
            this.architecture = architecture;
            return this;
        }

        /**
         * Values per head, written as {@code attention.key_length} (Qwen3's and Gemma's heads are wider
         * than {@code dim / heads}); default {@code dim / heads}.
         */
        public Builder headDim(int headDim) {
            this.headDim = positive("headDim", headDim);
            return this;
        }

        /** {@code rope.dimension_count}: partial rotary when below the head size; default the head size. */
        public Builder ropeDimension(int ropeDimension) {
            this.ropeDimension = positive("ropeDimension", ropeDimension);
            return this;
        }

        /** {@code attention.sliding_window}; default 0, no key (phi3 gets the key with 0). */
        public Builder slidingWindow(int slidingWindow) {
            if (slidingWindow < 0) {
                throw new IllegalArgumentException("slidingWindow must be >= 0, is " + slidingWindow);
            }
            this.slidingWindow = slidingWindow;
            return this;
        }

        /** {@code attn_logit_softcapping}; default none written. */
        public Builder attentionSoftcap(float cap) {
            this.attentionSoftcap = cap;
            return this;
        }

        /** {@code final_logit_softcapping}; default none written. */
        public Builder finalSoftcap(float cap) {
            this.finalSoftcap = cap;
            return this;
        }

        /** Linear RoPE scaling ({@code rope.scaling.type} linear and {@code rope.scaling.factor}); default 1, none. */
        public Builder ropeScalingFactor(float factor) {
            if (!(factor > 0)) {
                throw new IllegalArgumentException("ropeScalingFactor must be positive, is " + factor);
            }
            this.ropeScalingFactor = factor;
            return this;
        }

        /**
         * Phi-3's LongRoPE: seeded {@code rope_factors_long}/{@code _short} tensors,
         * {@code rope.scaling.original_context_length} and {@code rope.scaling.attn_factor}. Default none.
         */
        public Builder longRope(int originalContextLength, float attnFactor) {
            this.longRopeOriginalContext = positive("originalContextLength", originalContextLength);
            this.ropeAttnFactor = attnFactor;
            return this;
        }

        /**
         * Standard deviation of {@code output.weight} (untied output only); default {@link #weightStd}.
         * A larger one gives peaky logits, so that greedy decoding is decided by clear margins.
         */
        public Builder outputStd(float outputStd) {
            if (!(outputStd >= 0)) {
                throw new IllegalArgumentException("outputStd must be >= 0, is " + outputStd);
            }
            this.outputStd = outputStd;
            return this;
        }

        /** {@code general.name}; default "synthetic". */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder dim(int dim) {
            this.dim = positive("dim", dim);
            return this;
        }

        public Builder layers(int layers) {
            this.layers = positive("layers", layers);
            return this;
        }

        public Builder heads(int heads) {
            this.heads = positive("heads", heads);
            return this;
        }

        public Builder kvHeads(int kvHeads) {
            this.kvHeads = positive("kvHeads", kvHeads);
            return this;
        }

        public Builder ffnHidden(int ffnHidden) {
            this.ffnHidden = positive("ffnHidden", ffnHidden);
            return this;
        }

        /** Vocabulary size for the synthetic tokenizer; at least 260. Default 512. */
        public Builder vocabSize(int vocabSize) {
            this.vocabSize = positive("vocabSize", vocabSize);
            return this;
        }

        /** Default {@link #DEFAULT_CONTEXT_LENGTH}. */
        public Builder contextLength(int contextLength) {
            this.contextLength = positive("contextLength", contextLength);
            return this;
        }

        /** Type of the 2-D weights; default F32. */
        public Builder weightType(GgmlType weightType) {
            this.weightType = weightType;
            return this;
        }

        /** Without {@code output.weight}, so the output projection reuses {@code token_embd}; default true. */
        public Builder tiedOutput(boolean tiedOutput) {
            this.tiedOutput = tiedOutput;
            return this;
        }

        /** Adds qwen2's {@code attn_q/k/v.bias}; default false. */
        public Builder qkvBias(boolean qkvBias) {
            this.qkvBias = qkvBias;
            return this;
        }

        /** Standard deviation of matrices and biases; default {@link #DEFAULT_WEIGHT_STD}. */
        public Builder weightStd(float weightStd) {
            if (!(weightStd >= 0)) {
                throw new IllegalArgumentException("weightStd must be >= 0, is " + weightStd);
            }
            this.weightStd = weightStd;
            return this;
        }

        /**
         * Standard deviation of the norm weights around 1; default 0 (exactly 1, as the reference
         * models). A little jitter makes a test notice a norm applied to the wrong dimension.
         */
        public Builder normJitter(float normJitter) {
            if (!(normJitter >= 0)) {
                throw new IllegalArgumentException("normJitter must be >= 0, is " + normJitter);
            }
            this.normJitter = normJitter;
            return this;
        }

        /** Default {@link #DEFAULT_RMS_EPSILON}. */
        public Builder rmsEpsilon(float rmsEpsilon) {
            this.rmsEpsilon = rmsEpsilon;
            return this;
        }

        /** Default {@link #DEFAULT_ROPE_FREQ_BASE}. */
        public Builder ropeFreqBase(float ropeFreqBase) {
            this.ropeFreqBase = ropeFreqBase;
            return this;
        }

        /** Default {@link #DEFAULT_SEED}. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Written as {@code tokenizer.chat_template}; default none. */
        public Builder chatTemplate(String chatTemplate) {
            this.chatTemplate = chatTemplate;
            return this;
        }

        /**
         * Copies every {@code tokenizer.*} key (except a chat template) from this GGUF, e.g. a llama.cpp
         * vocab-only file, instead of making a synthetic vocabulary; the vocabulary size becomes its token
         * count.
         *
         * @throws ModelFormatException if the file is unusable or has no {@code tokenizer.ggml.tokens}
         */
        public Builder tokenizerFrom(Path vocabGguf) {
            try (GgufFile g = GgufFile.open(vocabGguf)) {
                Object tokens = g.get("tokenizer.ggml.tokens").orElseThrow(() -> new ModelFormatException(
                        vocabGguf + ": has no tokenizer.ggml.tokens to copy"));
                if (!(tokens instanceof List<?> list)) {
                    throw new ModelFormatException(vocabGguf + ": tokenizer.ggml.tokens is not a string array");
                }
                this.vocabSize = list.size();
            }
            this.tokenizerSource = vocabGguf;
            return this;
        }

        /**
         * Checks the shape and takes a snapshot.
         *
         * @throws IllegalArgumentException naming the setting that does not fit
         */
        public SyntheticModel build() {
            if (headDim == 0 && dim % heads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + heads
                        + "; give headDim");
            }
            int hd = headDim > 0 ? headDim : dim / heads;
            if (hd % 2 != 0 || (ropeDimension > 0 && (ropeDimension % 2 != 0 || ropeDimension > hd))) {
                throw new IllegalArgumentException("head dimension " + hd + " and rope dimension " + ropeDimension
                        + " must be even, the rope dimension at most the head dimension");
            }
            if (architecture.equals("phi3") && hd * heads != dim) {
                throw new IllegalArgumentException("phi3's heads must fill dim exactly (its attn_output is [dim, dim])");
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("heads " + heads + " is not a multiple of kvHeads " + kvHeads);
            }
            if (tokenizerSource == null && vocabSize < SyntheticVocabulary.FIRST_PIECE + 1) {
                throw new IllegalArgumentException("vocabSize " + vocabSize + " is too small for the synthetic"
                        + " tokenizer; use at least " + (SyntheticVocabulary.FIRST_PIECE + 1));
            }
            return new SyntheticModel(this);
        }

        private static int positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive, is " + v);
            }
            return v;
        }
    }
}
