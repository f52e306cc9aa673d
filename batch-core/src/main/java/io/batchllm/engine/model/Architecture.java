package io.batchllm.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model architectures the engine runs, by their GGUF {@code general.architecture} name. All are
 * the Llama block (RMSNorm, RoPE attention with GQA, a gated FFN); each constant names what its
 * architecture does differently, and every executor reads those traits here rather than testing
 * for an architecture by name.
 */
public enum Architecture {
    /**
     * Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM: adjacent-pair RoPE, no biases. Mistral-family
     * files are {@code llama} files that add {@code llama.attention.sliding_window}, which then
     * applies to every layer.
     */
    LLAMA("llama", RopeType.NORM, false, false, false, false, 1, 0),
    /** Qwen2/2.5: half-split RoPE and biases on the Q, K and V projections. */
    QWEN2("qwen2", RopeType.NEOX, true, false, false, false, 1, 0),
    /** Qwen3 (dense): Qwen2 without the biases, plus an RMSNorm over each head of Q and K before RoPE. */
    QWEN3("qwen3", RopeType.NEOX, false, true, false, false, 1, 0),
    /**
     * Gemma 2: the Gemma block (see {@link #gemmaBlock()}), sliding-window attention on every other
     * layer (0, 2, 4, …; 4096 positions unless the file says), and tanh soft-capping of the attention
     * scores (50) and of the final logits (30) unless the file gives other caps.
     */
    GEMMA2("gemma2", RopeType.NEOX, false, false, true, false, 2, 4096),
    /**
     * Gemma 3 (text): the Gemma block with Gemma 2's per-head Q/K RMSNorm added, five sliding-window
     * layers to each global one (when the file gives a window), no attention soft-cap, and RoPE bases
     * per layer: sliding-window layers use {@code rope.freq_base_swa} (10000 unless the file says)
     * without scaling, global layers the file's base and scaling.
     */
    GEMMA3("gemma3", RopeType.NEOX, false, true, true, false, 6, 0),
    /**
     * Phi-3, Phi-3.5, Phi-4-mini: Q, K and V fused in {@code attn_qkv} and gate‖up fused in
     * {@code ffn_up}, half-split RoPE (partial when {@code rope.dimension_count} is below the head
     * size), and LongRoPE's per-frequency factors ({@code rope_factors_long}/{@code _short}) with
     * {@code rope.scaling.attn_factor}.
     */
    PHI3("phi3", RopeType.NEOX, false, false, false, true, 1, 0);

    private final String ggufName;
    private final RopeType ropeType;
    private final boolean qkvBias;
    private final boolean qkNorm;
    private final boolean gemmaBlock;
    private final boolean fusedProjections;
    private final int slidingWindowPattern;
    private final int defaultSlidingWindow;

    Architecture(String ggufName, RopeType ropeType, boolean qkvBias, boolean qkNorm, boolean gemmaBlock,
                 boolean fusedProjections, int slidingWindowPattern, int defaultSlidingWindow) {
        this.ggufName = ggufName;
        this.ropeType = ropeType;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.gemmaBlock = gemmaBlock;
        this.fusedProjections = fusedProjections;
        this.slidingWindowPattern = slidingWindowPattern;
        this.defaultSlidingWindow = defaultSlidingWindow;
    }

    /** The name in {@code general.architecture}, which is also the prefix of the model's metadata keys. */
    public String ggufName() {
        return ggufName;
    }

    public RopeType ropeType() {
        return ropeType;
    }

    /** Whether {@code attn_q}, {@code attn_k} and {@code attn_v} have {@code .bias} tensors. */
    public boolean hasQkvBias() {
        return qkvBias;
    }

    /**
     * Whether each head of Q and of K is RMS-normalized ({@code attn_q_norm}, {@code attn_k_norm},
     * [head size]) after the projection and before RoPE: Qwen3's and Gemma 3's QK-norm.
     */
    public boolean hasQkNorm() {
        return qkNorm;
    }

    /**
     * Whether the block is Gemma's: token embeddings multiplied by √{@code embedding_length}; GeGLU
     * (tanh-approximated GELU) instead of SwiGLU; an RMSNorm after attention and after the FFN as well
     * as before ({@code post_attention_norm}, {@code post_ffw_norm}) ahead of each residual add; and a
     * query scale of 1/√{@code query_pre_attn_scalar} (see {@link ModelConfig#queryScale()}).
     */
    public boolean gemmaBlock() {
        return gemmaBlock;
    }

    /** Whether Q/K/V may come fused as {@code attn_qkv} and gate‖up fused as {@code ffn_up} (Phi-3). */
    public boolean hasFusedProjections() {
        return fusedProjections;
    }

    /**
     * llama.cpp's sliding-window pattern {@code n}: layer {@code l} uses the window when
     * {@code l % n < n - 1}; 1 means every layer (when the file gives a window at all).
     */
    int slidingWindowPattern() {
        return slidingWindowPattern;
    }

    /** The window when the file has no {@code attention.sliding_window} key (0: no window). */
    int defaultSlidingWindow() {
        return defaultSlidingWindow;
    }

    /** The architecture with this GGUF name, or null. */
    static Architecture byGgufName(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** "llama, qwen2, …", for error messages. */
    static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", "));
    }
}
