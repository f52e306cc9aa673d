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
 * {@code rope.scaling.*} (see {@link RopeScaling}).
 *
 * @param architecture the architecture ({@code general.architecture})
 * @param contextLength the trained context length
 * @param embeddingLength the model width (residual stream size)
 * @param blockCount the number of transformer blocks
 * @param feedForwardLength the SwiGLU hidden size
 * @param headCount query heads
 * @param headCountKv key/value heads (GQA when fewer than query heads)
 * @param headDim values per head
 * @param vocabSize tokens in the vocabulary (rows of the embedding and output matrices)
 * @param rmsNormEps RMSNorm epsilon
 * @param ropeType which dimensions RoPE pairs (from the architecture)
 * @param ropeDimension leading dimensions of each head that RoPE rotates (the rest pass through)
 * @param ropeFreqBase RoPE base θ
 * @param ropeScaling RoPE context-extension settings
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
        RopeScaling ropeScaling) {

    /** llama.cpp's RoPE base when {@code rope.freq_base} is absent. */
    public static final float DEFAULT_ROPE_FREQ_BASE = 10000f;

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
        return new ModelConfig(arch, contextLength, dim, blocks, ffn, heads, kvHeads, headDim, vocab, (float) eps,
                arch.ropeType(), ropeDim, (float) freqBase, ropeScaling(md, p));
    }

    private static int vocabSize(Metadata md, String p) {
        if (md.integer(p + "vocab_size").isPresent()) {
            return md.positiveInt(p + "vocab_size", -1);
        }
        return md.arrayLength("tokenizer.ggml.tokens").filter(n -> n > 0).orElseThrow(() -> new ModelFormatException(
                md.source() + ": the vocabulary size is unknown: neither '" + p + "vocab_size' nor a non-empty "
                        + "'tokenizer.ggml.tokens' is present"));
    }

    private static RopeScaling ropeScaling(Metadata md, String p) {
        String typeKey = p + "rope.scaling.type";
        String factorKey = p + "rope.scaling.factor";
        // llama.cpp's default type is "linear": a factor without a type still scales.
        String typeName = md.string(typeKey).orElse("linear").toLowerCase(Locale.ROOT);
        RopeScaling.Type type = switch (typeName) {
            case "none" -> RopeScaling.Type.NONE;
            case "linear" -> RopeScaling.Type.LINEAR;
            case "llama3" -> RopeScaling.Type.LLAMA3;
            default -> throw md.invalid(typeKey, "'" + typeName + "'",
                    "is not supported (supported: none, linear, llama3); this engine does not implement YaRN or LongRoPE");
        };
        double factor = md.number(factorKey).orElse(1.0);
        if (type == RopeScaling.Type.NONE || (type == RopeScaling.Type.LINEAR && factor == 1.0)) {
            return RopeScaling.NONE;
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
        int original = md.positiveInt(p + "rope.scaling.original_context_length",
                RopeScaling.DEFAULT_ORIGINAL_CONTEXT_LENGTH);
        return new RopeScaling(type, factor, low, high, original);
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
