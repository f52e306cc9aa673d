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
    private final List<LayerWeights> layers;

    private ModelWeights(ModelConfig config, GgufTensor tokenEmbedding, GgufTensor outputNorm, GgufTensor output,
                         boolean outputTied, GgufTensor ropeFreqs, List<LayerWeights> layers) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.outputNorm = outputNorm;
        this.output = output;
        this.outputTied = outputTied;
        this.ropeFreqs = ropeFreqs;
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
        GgufTensor freqs = t.optional("rope_freqs.weight", c.ropeDimension() / 2).orElse(null);
        if (freqs != null && freqs.type() != GgmlType.F32) {
            throw new ModelFormatException(source + ": tensor 'rope_freqs.weight' has type " + freqs.type()
                    + " but must be F32");
        }
        List<LayerWeights> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            layers.add(layer(t, c, "blk." + i + "."));
        }
        return new ModelWeights(c, embd, outNorm, out.orElse(embd), out.isEmpty(), freqs, List.copyOf(layers));
    }

    private static LayerWeights layer(TensorChecker t, ModelConfig c, String p) {
        int dim = c.embeddingLength();
        int q = c.queryDim();
        int kv = c.kvDim();
        int ffn = c.feedForwardLength();
        boolean biasRequired = c.architecture().hasQkvBias();
        for (String unsupported : List.of("attn_output.bias", "ffn_gate.bias", "ffn_up.bias", "ffn_down.bias")) {
            t.refuse(p + unsupported);
        }
        return new LayerWeights(
                t.require(p + "attn_norm.weight", dim),
                t.require(p + "attn_q.weight", dim, q),
                t.require(p + "attn_k.weight", dim, kv),
                t.require(p + "attn_v.weight", dim, kv),
                t.require(p + "attn_output.weight", q, dim),
                t.bias(p + "attn_q.bias", biasRequired, q),
                t.bias(p + "attn_k.bias", biasRequired, kv),
                t.bias(p + "attn_v.bias", biasRequired, kv),
                t.require(p + "ffn_norm.weight", dim),
                t.require(p + "ffn_gate.weight", dim, ffn),
                t.require(p + "ffn_up.weight", dim, ffn),
                t.require(p + "ffn_down.weight", ffn, dim));
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

    /** The blocks, in order. */
    public List<LayerWeights> layers() {
        return layers;
    }

    /**
     * RoPE's frequency for each rotated pair {@code i < ropeDimension/2}, in radians per position, with
     * all scaling applied: the angle for position {@code p} is {@code p * frequencies[i]}.
     *
     * <p>As in llama.cpp: {@code base^(-2i/ropeDimension)}, divided by {@code rope_freqs[i]} when that
     * tensor exists (otherwise by the Llama 3.1 divisor when the metadata asks for {@code llama3}
     * scaling), and multiplied by {@code 1/factor} for linear scaling.
     */
    public double[] ropeFrequencies() {
        int pairs = config.ropeDimension() / 2;
        RopeScaling scaling = config.ropeScaling();
        double[] f = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            f[i] = Math.pow(config.ropeFreqBase(), -2.0 * i / config.ropeDimension());
            if (ropeFreqs != null) {
                f[i] /= ropeFreqs.data().getAtIndex(F32, i);
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

        void refuse(String name) {
            if (lookup.apply(name).isPresent()) {
                throw new ModelFormatException(source + ": tensor '" + name + "' is not supported by this engine's "
                        + config.architecture().ggufName() + " forward pass (it would be silently ignored)");
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
