package io.batchllm.engine.model;

/**
 * Which dimensions of a head RoPE rotates together. Getting this wrong raises no error, it only makes
 * the model produce garbage, so it is fixed by the architecture and never guessed.
 */
public enum RopeType {
    /**
     * Adjacent pairs {@code (2i, 2i+1)}: ggml's {@code ROPE_TYPE_NORM}. llama.cpp's converter permutes
     * the rows of {@code attn_q}/{@code attn_k} for {@code llama} models so that HF's "rotate half"
     * pairing becomes this one.
     */
    NORM,
    /** Half-split pairs {@code (i, i + d/2)}: ggml's {@code ROPE_TYPE_NEOX} ({@code qwen2}; weights not permuted). */
    NEOX
}
