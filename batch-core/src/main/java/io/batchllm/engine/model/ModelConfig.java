package io.batchllm.engine.model;

import io.batchllm.engine.gguf.ModelFormatException;
import java.util.Locale;
import java.util.Map;

/**
 * The hyperparameters of a Llama-family model, read from GGUF metadata. Immutable and device-neutral:
 * every executor (CPU, CUDA) sizes its buffers from this.
 *
 * <p>Keys are {@code <arch>.<name>}, e.g. {@code llama.embedding_length}. Required:
 * {@code context_length, embedding_length, block_count, feed_forward_length, attention.head_count,
 * attention.layer_norm_rms_epsilon}, and the vocabulary size from {@code vocab_size} or the length of
 * {@code tokenizer.ggml.tokens}. Optional, with llama.cpp's defaults:
 * {@code attention.head_count_kv} (= head_count), {@code attention.key_length} (= embedding/heads),
 * {@code rope.dimension_count} (= head dim), {@code rope.freq_base} ({@value #DEFAULT_ROPE_FREQ_BASE}),
 * {@code rope.scaling.*} (see {@link RopeScaling}), {@code attention.sliding_window} (and
 * {@code attention.sliding_window_pattern}, see {@link SlidingWindow}), {@code attn_logit_softcapping}
 * and {@code final_logit_softcapping} (Gemma 2 defaults them to 50 and 30), {@code rope.freq_base_swa}
 * (Gemma 3: {@value #DEFAULT_GEMMA3_SWA_FREQ_BASE}).
 *
 * @param architecture the architecture ({@code general.architecture}), with its traits
 * @param contextLength the trained context length
 * @param embeddingLength the model width (residual stream size)
 * @param blockCount the number of transformer blocks
 * @param feedForwardLength the FFN hidden size
 * @param headCount query heads
 * @param headCountKv key/value heads (GQA when fewer than query heads)
 * @param headDim values per head
 * @param vocabSize tokens in the vocabulary (rows of the embedding and output matrices)
 * @param rmsNormEps RMSNorm epsilon (every norm of the model, QK-norms included)
 * @param ropeType which dimensions RoPE pairs (from the architecture)
 * @param ropeDimension leading dimensions of each head that RoPE rotates (the rest pass through)
 * @param ropeFreqBase RoPE base θ
 * @param ropeScaling RoPE context-extension settings
 * @param attentionSoftcap Gemma 2's attention score cap {@code c}: scores become {@code c·tanh(s/c)}
 *     before the softmax; 0 for none
 * @param finalSoftcap the same cap on the output logits; 0 for none
 * @param slidingWindow which layers attend through a window, and its size
 * @param ropeFreqBaseSwa the RoPE base of sliding-window layers; they are also unscaled when
 *     {@link #swaLayersHaveOwnRope()} (Gemma 3), else it equals {@code ropeFreqBase}
 */
public record ModelConfig(
        Architecture architecture,
        int contextLength,
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int headCountKv,
        int headDim,
        int vocabSize,
        float rmsNormEps,
        RopeType ropeType,
        int ropeDimension,
        float ropeFreqBase,
        RopeScaling ropeScaling,
        float attentionSoftcap,
        float finalSoftcap,
        SlidingWindow slidingWindow,
        float ropeFreqBaseSwa) {

    /** llama.cpp's RoPE base when {@code rope.freq_base} is absent. */
    public static final float DEFAULT_ROPE_FREQ_BASE = 10000f;
    /** Gemma 3's RoPE base on its sliding-window layers (llama.cpp's {@code rope_freq_base_train_swa}). */
    public static final float DEFAULT_GEMMA3_SWA_FREQ_BASE = 10000f;
    /** Gemma 2's caps when the file gives none (llama.cpp's defaults, from Gemma 2's config). */
    public static final float DEFAULT_GEMMA2_ATTENTION_SOFTCAP = 50f;
    public static final float DEFAULT_GEMMA2_FINAL_SOFTCAP = 30f;
    /**
     * Layer counts of the 27B Gemma 2 and Gemma 3, whose {@code query_pre_attn_scalar} is
     * {@code embedding_length / head_count} instead of the head size. GGUF has no key for it, so
     * llama.cpp tells the models apart by their layer count, and so do we.
     */
    public static final int GEMMA2_27B_LAYERS = 46;
    /** Gemma 3 27B's layer count (see {@link #GEMMA2_27B_LAYERS}). */
    public static final int GEMMA3_27B_LAYERS = 62;

    /**
     * Reads the configuration from metadata.
     *
     * @param source names the model in error messages (a file path, or "model")
     * @throws ModelFormatException for an unsupported architecture, a missing required key, or
     *         values that contradict each other; the message names the key
     */
    public static ModelConfig fromMetadata(String source, Map<String, Object> metadata) {
        Metadata md = new Metadata(source, metadata);
        String archName = md.requireString("general.architecture");
        Architecture arch = Architecture.byGgufName(archName);
        if (arch == null) {
            throw new ModelFormatException(source + ": architecture '" + archName + "' is not supported; supported: "
                    + Architecture.supportedNames());
        }
        String p = archName + ".";
        int contextLength = md.requirePositiveInt(p + "context_length");
        int dim = md.requirePositiveInt(p + "embedding_length");
        int blocks = md.requirePositiveInt(p + "block_count");
        int ffn = md.requirePositiveInt(p + "feed_forward_length");
        int heads = md.requirePositiveInt(p + "attention.head_count");
        int kvHeads = md.positiveInt(p + "attention.head_count_kv", heads);
        if (heads % kvHeads != 0) {
            throw md.invalid(p + "attention.head_count_kv", kvHeads,
                    "does not divide attention.head_count " + heads + " (grouped-query attention needs whole groups)");
        }
        if (!metadata.containsKey(p + "attention.key_length") && dim % heads != 0) {
            throw md.invalid(p + "attention.head_count", heads, "does not divide embedding_length " + dim
                    + " and attention.key_length is absent, so the head size is unknown");
        }
        int headDim = md.positiveInt(p + "attention.key_length", dim / heads);
        int valueLength = md.positiveInt(p + "attention.value_length", headDim);
        if (valueLength != headDim) {
            throw md.invalid(p + "attention.value_length", valueLength, "differs from attention.key_length "
                    + headDim + "; only equal key and value head sizes are supported");
        }
        double eps = md.requireNumber(p + "attention.layer_norm_rms_epsilon");
        if (!(eps > 0 && eps < 1)) {
            throw md.invalid(p + "attention.layer_norm_rms_epsilon", eps, "is out of range (expected 0 < eps < 1)");
        }
        int ropeDim = md.positiveInt(p + "rope.dimension_count", headDim);
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw md.invalid(p + "rope.dimension_count", ropeDim, "must be even and at most the head size " + headDim);
        }
        double freqBase = md.number(p + "rope.freq_base").orElse((double) DEFAULT_ROPE_FREQ_BASE);
        if (!(freqBase > 1)) {
            throw md.invalid(p + "rope.freq_base", freqBase, "must be greater than 1");
        }
        int vocab = vocabSize(md, p);
        boolean gemma2 = arch == Architecture.GEMMA2;
        float attentionSoftcap = softcap(md, p + "attn_logit_softcapping", gemma2 ? DEFAULT_GEMMA2_ATTENTION_SOFTCAP : 0);
        float finalSoftcap = softcap(md, p + "final_logit_softcapping", gemma2 ? DEFAULT_GEMMA2_FINAL_SOFTCAP : 0);
        double swaBase = md.number(p + "rope.freq_base_swa")
                .orElse(arch == Architecture.GEMMA3 ? DEFAULT_GEMMA3_SWA_FREQ_BASE : freqBase);
        if (!(swaBase > 1)) {
            throw md.invalid(p + "rope.freq_base_swa", swaBase, "must be greater than 1");
        }
        return new ModelConfig(arch, contextLength, dim, blocks, ffn, heads, kvHeads, headDim, vocab, (float) eps,
                arch.ropeType(), ropeDim, (float) freqBase, ropeScaling(md, p, contextLength), attentionSoftcap,
                finalSoftcap, slidingWindow(md, p, arch, blocks), (float) swaBase);
    }

    private static float softcap(Metadata md, String key, float fallback) {
        double cap = md.number(key).orElse((double) fallback);
        if (!(cap >= 0) || Double.isInfinite(cap)) {
            throw md.invalid(key, cap, "must be a finite number >= 0 (0: no soft-capping)");
        }
        return (float) cap;
    }

    /**
     * {@code attention.sliding_window} (or the architecture's default), on the layers that
     * {@code attention.sliding_window_pattern} names: an integer {@code n} (layer {@code l} is covered
     * when {@code l % n < n - 1}, llama.cpp's rule) or one boolean per layer; absent, the
     * architecture's pattern.
     */
    private static SlidingWindow slidingWindow(Metadata md, String p, Architecture arch, int blocks) {
        String sizeKey = p + "attention.sliding_window";
        long size = md.integer(sizeKey).orElse((long) arch.defaultSlidingWindow());
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw md.invalid(sizeKey, size, "is out of range (expected 0 for none, or 1.." + Integer.MAX_VALUE + ")");
        }
        if (size == 0) {
            return SlidingWindow.NONE;
        }
        String patternKey = p + "attention.sliding_window_pattern";
        boolean[] layers = new boolean[blocks];
        Object pattern = md.raw(patternKey);
        if (pattern instanceof boolean[] flags) {
            if (flags.length != blocks) {
                throw md.invalid(patternKey, flags.length + " flags", "should have one per layer (" + blocks + ")");
            }
            layers = flags;
        } else {
            long n = pattern == null ? arch.slidingWindowPattern() : md.integer(patternKey).orElseThrow();
            if (n < 1 || n > blocks) {
                throw md.invalid(patternKey, n, "is out of range (expected 1.." + blocks + ", or one boolean per layer)");
            }
            for (int l = 0; l < blocks; l++) {
                layers[l] = n == 1 || l % n < n - 1;
            }
        }
        return new SlidingWindow((int) size, layers);
    }

    private static int vocabSize(Metadata md, String p) {
        if (md.integer(p + "vocab_size").isPresent()) {
            return md.positiveInt(p + "vocab_size", -1);
        }
        return md.arrayLength("tokenizer.ggml.tokens").filter(n -> n > 0).orElseThrow(() -> new ModelFormatException(
                md.source() + ": the vocabulary size is unknown: neither '" + p + "vocab_size' nor a non-empty "
                        + "'tokenizer.ggml.tokens' is present"));
    }

    private static RopeScaling ropeScaling(Metadata md, String p, int contextLength) {
        String typeKey = p + "rope.scaling.type";
        String factorKey = p + "rope.scaling.factor";
        String originalKey = p + "rope.scaling.original_context_length";
        String attnFactorKey = p + "rope.scaling.attn_factor";
        // llama.cpp's default type is "linear": a factor without a type still scales.
        String typeName = md.string(typeKey).orElse("linear").toLowerCase(Locale.ROOT);
        RopeScaling.Type type = switch (typeName) {
            case "none" -> RopeScaling.Type.NONE;
            case "linear" -> RopeScaling.Type.LINEAR;
            case "llama3" -> RopeScaling.Type.LLAMA3;
            case "longrope", "su" -> RopeScaling.Type.LONGROPE;
            default -> throw md.invalid(typeKey, "'" + typeName + "'",
                    "is not supported (supported: none, linear, llama3, longrope); this engine does not implement YaRN");
        };
        double factor = md.number(factorKey).orElse(1.0);
        double attnFactor = md.number(attnFactorKey).orElse(1.0);
        if (!(attnFactor > 0) || Double.isInfinite(attnFactor)) {
            throw md.invalid(attnFactorKey, attnFactor, "must be a finite positive number");
        }
        boolean plain = type == RopeScaling.Type.NONE || (type == RopeScaling.Type.LINEAR && factor == 1.0);
        if (plain && attnFactor == 1.0 && md.integer(originalKey).isEmpty()) {
            return RopeScaling.NONE;
        }
        if (plain) {
            type = RopeScaling.Type.NONE;
            factor = 1.0;
        }
        if (!(factor > 0)) {
            throw md.invalid(factorKey, factor, "must be positive");
        }
        if (type == RopeScaling.Type.LLAMA3 && md.number(factorKey).isEmpty()) {
            throw md.missing(factorKey);
        }
        double low = md.number(p + "rope.scaling.low_freq_factor").orElse(RopeScaling.DEFAULT_LOW_FREQ_FACTOR);
        double high = md.number(p + "rope.scaling.high_freq_factor").orElse(RopeScaling.DEFAULT_HIGH_FREQ_FACTOR);
        if (type == RopeScaling.Type.LLAMA3 && !(high > low && low > 0)) {
            throw md.invalid(p + "rope.scaling.high_freq_factor", high,
                    "must be greater than rope.scaling.low_freq_factor " + low + " (and both positive)");
        }
        // llama.cpp's n_ctx_orig_yarn defaults to the trained context; Llama 3.1's converter default is 8192
        int original = md.positiveInt(originalKey, type == RopeScaling.Type.LLAMA3
                ? RopeScaling.DEFAULT_ORIGINAL_CONTEXT_LENGTH : contextLength);
        return new RopeScaling(type, factor, low, high, original, attnFactor);
    }

    /** What token embeddings are multiplied by: √{@code embedding_length} for Gemma, else 1. */
    public float embeddingScale() {
        return architecture.gemmaBlock() ? (float) Math.sqrt(embeddingLength) : 1f;
    }

    /**
     * What the query (equivalently each score) is multiplied by before the softmax: 1/√{@code headDim},
     * or for Gemma 1/√{@code query_pre_attn_scalar}, which is the head size too except for the 27B
     * models (see {@link #GEMMA2_27B_LAYERS}), where it is {@code embedding_length / head_count}.
     */
    public float queryScale() {
        boolean gemma27b = (architecture == Architecture.GEMMA2 && blockCount == GEMMA2_27B_LAYERS)
                || (architecture == Architecture.GEMMA3 && blockCount == GEMMA3_27B_LAYERS);
        int queryPreAttnScalar = gemma27b ? embeddingLength / headCount : headDim;
        return (float) (1.0 / Math.sqrt(queryPreAttnScalar));
    }

    /** Whether sliding-window layers use {@link #ropeFreqBaseSwa} without scaling (Gemma 3). */
    public boolean swaLayersHaveOwnRope() {
        return architecture == Architecture.GEMMA3;
    }

    /** Values of all query heads of one token: {@code headCount * headDim}. */
    public int queryDim() {
        return headCount * headDim;
    }

    /** Values of all key (or value) heads of one token: {@code headCountKv * headDim}. */
    public int kvDim() {
        return headCountKv * headDim;
    }

    /** Query heads sharing one key/value head. */
    public int groupSize() {
        return headCount / headCountKv;
    }
}
