package io.batchllm.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model architectures the engine runs, by their GGUF {@code general.architecture} name. Both are
 * the Llama block (RMSNorm, RoPE attention with GQA, SwiGLU); they differ in RoPE pairing and biases.
 */
public enum Architecture {
    /** Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM: adjacent-pair RoPE, no biases. */
    LLAMA("llama", RopeType.NORM, false),
    /** Qwen2/2.5: half-split RoPE and biases on the Q, K and V projections. */
    QWEN2("qwen2", RopeType.NEOX, true);

    private final String ggufName;
    private final RopeType ropeType;
    private final boolean qkvBias;

    Architecture(String ggufName, RopeType ropeType, boolean qkvBias) {
        this.ggufName = ggufName;
        this.ropeType = ropeType;
        this.qkvBias = qkvBias;
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

    /** The architecture with this GGUF name, or null. */
    static Architecture byGgufName(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** "llama, qwen2", for error messages. */
    static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", "));
    }
}
