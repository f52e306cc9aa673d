package io.batchllm.engine.model;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.gguf.ModelFormatException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A model's configuration and its tensors, every one present and shape-checked at load, so that a bad
 * file fails here with a message naming the tensor rather than producing garbage later. Device-neutral:
 * tensors stay as {@link GgufTensor}s (views of the mapped file) for each executor to read or upload.
 *
 * <p>Immutable and thread safe. The tensors are only valid while their source (e.g. the
 * {@link GgufFile}) is open.
 */
public final class ModelWeights {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ModelConfig config;
    private final GgufTensor tokenEmbedding;
    private final GgufTensor outputNorm;
    private final GgufTensor output;
    private final boolean outputTied;
    private final GgufTensor ropeFreqs;
    private final GgufTensor ropeFactors;
    private final List<LayerWeights> layers;

    private ModelWeights(ModelConfig config, GgufTensor tokenEmbedding, GgufTensor outputNorm, GgufTensor output,
                         boolean outputTied, GgufTensor ropeFreqs, GgufTensor ropeFactors, List<LayerWeights> layers) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.outputNorm = outputNorm;
        this.output = output;
        this.outputTied = outputTied;
        this.ropeFreqs = ropeFreqs;
        this.ropeFactors = ropeFactors;
        this.layers = layers;
    }

    /** Reads and checks the model in an open GGUF file; the file must stay open while the weights are used. */
    public static ModelWeights fromGguf(GgufFile file) {
        return from(file.path().toString(), file.metadata(), file::tensor);
    }

    /** Builds and checks a model from metadata and a tensor lookup (e.g. synthetic tensors in tests). */
    public static ModelWeights from(Map<String, Object> metadata, Function<String, Optional<GgufTensor>> tensors) {
        return from("model", metadata, tensors);
    }

    /**
     * Builds and checks a model from metadata and a tensor lookup.
     *
     * @param source names the model in error messages
     * @throws ModelFormatException naming the key or tensor that is missing, unsupported or mis-shaped
     */
    public static ModelWeights from(String source, Map<String, Object> metadata,
                                    Function<String, Optional<GgufTensor>> tensors) {
        ModelConfig c = ModelConfig.fromMetadata(source, metadata);
        TensorChecker t = new TensorChecker(source, c, tensors);
        int dim = c.embeddingLength();
        GgufTensor embd = t.require("token_embd.weight", dim, c.vocabSize());
        GgufTensor outNorm = t.require("output_norm.weight", dim);
        Optional<GgufTensor> out = t.optional("output.weight", dim, c.vocabSize());
        int pairs = c.ropeDimension() / 2;
        GgufTensor freqs = t.f32Vector("rope_freqs.weight", pairs);
        GgufTensor factors = longRopeFactors(t, c, pairs);
        List<LayerWeights> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            layers.add(layer(t, c, "blk." + i + "."));
        }
        return new ModelWeights(c, embd, outNorm, out.orElse(embd), out.isEmpty(), freqs, factors, List.copyOf(layers));
    }

    /**
     * LongRoPE's divisors (Phi-3): {@code rope_factors_long} when the context is longer than
     * {@code rope.scaling.original_context_length}, else {@code rope_factors_short}, as llama.cpp
     * chooses them (by context size, once; not per sequence length as Hugging Face does). Null when
     * the file has neither.
     */
    private static GgufTensor longRopeFactors(TensorChecker t, ModelConfig c, int pairs) {
        GgufTensor longFactors = t.f32Vector("rope_factors_long.weight", pairs);
        GgufTensor shortFactors = t.f32Vector("rope_factors_short.weight", pairs);
        boolean named = c.ropeScaling().type() == RopeScaling.Type.LONGROPE;
        if ((longFactors == null) != (shortFactors == null) || (named && longFactors == null)) {
            throw new ModelFormatException(t.source() + ": LongRoPE needs both 'rope_factors_long.weight' and "
                    + "'rope_factors_short.weight' [" + pairs + "]" + (named ? " (the file's rope.scaling.type says "
                    + "longrope)" : "") + ", but " + (longFactors == null && shortFactors == null ? "neither is"
                    : (longFactors == null ? "'rope_factors_long.weight'" : "'rope_factors_short.weight'") + " is not")
                    + " present");
        }
        if (longFactors == null) {
            return null;
        }
        return c.contextLength() > c.ropeScaling().originalContextLength() ? longFactors : shortFactors;
    }

    private static LayerWeights layer(TensorChecker t, ModelConfig c, String p) {
        int dim = c.embeddingLength();
        int q = c.queryDim();
        int kv = c.kvDim();
        int ffn = c.feedForwardLength();
        Architecture arch = c.architecture();
        boolean biasRequired = arch.hasQkvBias();
        for (String unsupported : List.of("attn_output.bias", "ffn_gate.bias", "ffn_up.bias", "ffn_down.bias",
                "attn_qkv.bias")) {
            t.refuse(p + unsupported);
        }
        if (!arch.hasQkNorm()) {
            t.refuse(p + "attn_q_norm.weight");
            t.refuse(p + "attn_k_norm.weight");
        }
        if (!arch.gemmaBlock()) {
            t.refuse(p + "post_attention_norm.weight");
            t.refuse(p + "post_ffw_norm.weight");
        }
        GgufTensor[] qkv = qkv(t, arch, p, dim, q, kv);
        GgufTensor[] gateUp = gateUp(t, arch, p, dim, ffn);
        return new LayerWeights(
                t.require(p + "attn_norm.weight", dim),
                qkv[0], qkv[1], qkv[2],
                t.require(p + "attn_output.weight", q, dim),
                t.bias(p + "attn_q.bias", biasRequired, q),
                t.bias(p + "attn_k.bias", biasRequired, kv),
                t.bias(p + "attn_v.bias", biasRequired, kv),
                arch.hasQkNorm() ? t.require(p + "attn_q_norm.weight", c.headDim()) : null,
                arch.hasQkNorm() ? t.require(p + "attn_k_norm.weight", c.headDim()) : null,
                arch.gemmaBlock() ? t.require(p + "post_attention_norm.weight", dim) : null,
                t.require(p + "ffn_norm.weight", dim),
                gateUp[0], gateUp[1],
                t.require(p + "ffn_down.weight", ffn, dim),
                arch.gemmaBlock() ? t.require(p + "post_ffw_norm.weight", dim) : null);
    }

    /** Q, K and V: separate tensors, or (Phi-3) the three row ranges of {@code attn_qkv}. */
    private static GgufTensor[] qkv(TensorChecker t, Architecture arch, String p, int dim, int q, int kv) {
        if (!arch.hasFusedProjections()) {
            t.refuse(p + "attn_qkv.weight");
        } else {
            Optional<GgufTensor> fused = t.optional(p + "attn_qkv.weight", dim, q + 2L * kv);
            if (fused.isPresent()) {
                for (String separate : List.of("attn_q.weight", "attn_k.weight", "attn_v.weight")) {
                    t.refuse(p + separate, "the file also has the fused 'attn_qkv.weight'");
                }
                GgufTensor f = fused.get();
                return new GgufTensor[] {rows(f, 0, q, "Q"), rows(f, q, kv, "K"), rows(f, q + kv, kv, "V")};
            }
        }
        return new GgufTensor[] {t.require(p + "attn_q.weight", dim, q), t.require(p + "attn_k.weight", dim, kv),
                t.require(p + "attn_v.weight", dim, kv)};
    }

    /** The FFN's gate and up projections: separate tensors, or (Phi-3) the two halves of {@code ffn_up}. */
    private static GgufTensor[] gateUp(TensorChecker t, Architecture arch, String p, int dim, int ffn) {
        if (arch.hasFusedProjections() && t.lookup().apply(p + "ffn_gate.weight").isEmpty()) {
            GgufTensor fused = t.require(p + "ffn_up.weight", dim, 2L * ffn);
            return new GgufTensor[] {rows(fused, 0, ffn, "gate"), rows(fused, ffn, ffn, "up")};
        }
        return new GgufTensor[] {t.require(p + "ffn_gate.weight", dim, ffn), t.require(p + "ffn_up.weight", dim, ffn)};
    }

    /** Rows {@code [from, from + count)} of a 2-D tensor, as a tensor over the same bytes. */
    private static GgufTensor rows(GgufTensor t, long from, long count, String part) {
        long rowBytes = t.rowBytes();
        return new GgufTensor(t.name() + " (" + part + " rows)", t.type(), new long[] {t.rowLength(), count},
                t.data().asSlice(from * rowBytes, count * rowBytes));
    }

    public ModelConfig config() {
        return config;
    }

    /** {@code token_embd.weight} [dim, vocab]: row {@code id} is the token's embedding. */
    public GgufTensor tokenEmbedding() {
        return tokenEmbedding;
    }

    /** {@code output_norm.weight} [dim]. */
    public GgufTensor outputNorm() {
        return outputNorm;
    }

    /** The LM head [dim, vocab]: {@code output.weight}, or the token embedding when tied. */
    public GgufTensor output() {
        return output;
    }

    /** Whether the file has no {@code output.weight}, so the embedding doubles as the LM head. */
    public boolean outputTied() {
        return outputTied;
    }

    /** {@code rope_freqs.weight} [ropeDimension/2], Llama 3.1's frequency divisors, if present. */
    public Optional<GgufTensor> ropeFreqs() {
        return Optional.ofNullable(ropeFreqs);
    }

    /**
     * The LongRoPE divisors this model runs with ({@code rope_factors_long} or {@code _short}, see
     * {@link RopeScaling.Type#LONGROPE}), if the file has them.
     */
    public Optional<GgufTensor> ropeFactors() {
        return Optional.ofNullable(ropeFactors);
    }

    /** The blocks, in order. */
    public List<LayerWeights> layers() {
        return layers;
    }

    /** {@link #ropeFrequencies(int)} of layer 0 (which is every layer's, except on Gemma 3). */
    public double[] ropeFrequencies() {
        return ropeFrequencies(0);
    }

    /**
     * RoPE's frequency for each rotated pair {@code i < ropeDimension/2} on {@code layer}, in radians
     * per position, with all scaling applied: the angle for position {@code p} is
     * {@code p * frequencies[i]}. (The rotated values are then also multiplied by
     * {@link RopeScaling#attnFactor()}.)
     *
     * <p>As in llama.cpp: {@code base^(-2i/ropeDimension)}, divided by {@code rope_freqs[i]} when that
     * tensor exists, else by the LongRoPE factor when the model has them, else by the Llama 3.1
     * divisor when the metadata asks for {@code llama3} scaling; and multiplied by {@code 1/factor}
     * for linear scaling. Gemma 3's sliding-window layers use {@link ModelConfig#ropeFreqBaseSwa()}
     * and no scaling.
     */
    public double[] ropeFrequencies(int layer) {
        int pairs = config.ropeDimension() / 2;
        boolean ownRope = config.swaLayersHaveOwnRope() && config.slidingWindow().covers(layer);
        double base = ownRope ? config.ropeFreqBaseSwa() : config.ropeFreqBase();
        RopeScaling scaling = ownRope ? RopeScaling.NONE : config.ropeScaling();
        double[] f = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            f[i] = Math.pow(base, -2.0 * i / config.ropeDimension());
            if (ownRope) {
                continue;
            }
            if (ropeFreqs != null) {
                f[i] /= ropeFreqs.data().getAtIndex(F32, i);
            } else if (ropeFactors != null) {
                f[i] /= ropeFactors.data().getAtIndex(F32, i);
            } else if (scaling.type() == RopeScaling.Type.LLAMA3) {
                f[i] /= scaling.llama3Divisor(f[i]);
            }
            if (scaling.type() == RopeScaling.Type.LINEAR) {
                f[i] /= scaling.factor();
            }
        }
        return f;
    }

    /** Finds tensors and checks their shapes against the configuration. */
    private record TensorChecker(String source, ModelConfig config, Function<String, Optional<GgufTensor>> lookup) {

        GgufTensor require(String name, long... shape) {
            return optional(name, shape).orElseThrow(() -> new ModelFormatException(source + ": tensor '" + name
                    + "' is missing (expected shape " + Arrays.toString(shape) + " for a "
                    + config.architecture().ggufName() + " model)"));
        }

        Optional<GgufTensor> optional(String name, long... shape) {
            Optional<GgufTensor> t = lookup.apply(name);
            t.ifPresent(tensor -> checkShape(tensor, name, shape));
            return t;
        }

        GgufTensor bias(String name, boolean required, long size) {
            return required ? require(name, size) : optional(name, size).orElse(null);
        }

        /** An optional 1-D F32 tensor (RoPE divisors), or null. */
        GgufTensor f32Vector(String name, long size) {
            GgufTensor v = optional(name, size).orElse(null);
            if (v != null && v.type() != GgmlType.F32) {
                throw new ModelFormatException(source + ": tensor '" + name + "' has type " + v.type()
                        + " but must be F32");
            }
            return v;
        }

        void refuse(String name) {
            refuse(name, "it would be silently ignored");
        }

        void refuse(String name, String why) {
            if (lookup.apply(name).isPresent()) {
                throw new ModelFormatException(source + ": tensor '" + name + "' is not supported by this engine's "
                        + config.architecture().ggufName() + " forward pass (" + why + ")");
            }
        }

        private void checkShape(GgufTensor t, String name, long[] expected) {
            long[] actual = withoutTrailingOnes(t.dims());
            if (!Arrays.equals(actual, expected)) {
                throw new ModelFormatException(source + ": tensor '" + name + "' has shape " + Arrays.toString(t.dims())
                        + " but the metadata implies " + Arrays.toString(expected) + " (ne[0] first; "
                        + shapeHint() + ")");
            }
        }

        private String shapeHint() {
            return "embedding_length " + config.embeddingLength() + ", head_count " + config.headCount()
                    + ", head_count_kv " + config.headCountKv() + ", head dim " + config.headDim()
                    + ", feed_forward_length " + config.feedForwardLength() + ", vocab " + config.vocabSize();
        }

        /** ggml pads shapes with 1s; a [64, 1] vector is the same tensor as [64]. */
        private static long[] withoutTrailingOnes(long[] dims) {
            int n = dims.length;
            while (n > 1 && dims[n - 1] == 1) {
                n--;
            }
            return Arrays.copyOf(dims, n);
        }
    }
}
