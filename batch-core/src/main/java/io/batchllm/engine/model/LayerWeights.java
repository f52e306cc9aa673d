package io.batchllm.engine.model;

import io.batchllm.engine.gguf.GgufTensor;

/**
 * The tensors of one transformer block ({@code blk.N.*}), shape-checked against the
 * {@link ModelConfig}. Shapes below are ggml's, {@code ne[0]} (the row length) first. Tensors an
 * architecture does not have are null.
 *
 * <p>Phi-3 stores Q, K and V as one {@code attn_qkv} tensor and the FFN's gate and up projections as
 * one {@code ffn_up} of twice the height; here they appear as {@link #attnQ}, {@link #attnK},
 * {@link #attnV}, {@link #ffnGate} and {@link #ffnUp} all the same, each a view of its rows of the
 * fused tensor (Q, K, V in that order; gate first, then up), so that no executor needs a special case.
 *
 * @param attnNorm {@code attn_norm.weight} [dim]
 * @param attnQ {@code attn_q.weight} [dim, heads·headDim]
 * @param attnK {@code attn_k.weight} [dim, kvHeads·headDim]
 * @param attnV {@code attn_v.weight} [dim, kvHeads·headDim]
 * @param attnOutput {@code attn_output.weight} [heads·headDim, dim]
 * @param attnQBias {@code attn_q.bias} [heads·headDim], or null when the model has none
 * @param attnKBias {@code attn_k.bias} [kvHeads·headDim], or null
 * @param attnVBias {@code attn_v.bias} [kvHeads·headDim], or null
 * @param attnQNorm {@code attn_q_norm.weight} [headDim]: the per-head QK-norm of Qwen3 and Gemma 3, or null
 * @param attnKNorm {@code attn_k_norm.weight} [headDim], or null
 * @param attnPostNorm {@code post_attention_norm.weight} [dim]: Gemma's norm of the attention output, or null
 * @param ffnNorm {@code ffn_norm.weight} [dim]
 * @param ffnGate {@code ffn_gate.weight} [dim, ffn]
 * @param ffnUp {@code ffn_up.weight} [dim, ffn]
 * @param ffnDown {@code ffn_down.weight} [ffn, dim]
 * @param ffnPostNorm {@code post_ffw_norm.weight} [dim]: Gemma's norm of the FFN output, or null
 */
public record LayerWeights(
        GgufTensor attnNorm,
        GgufTensor attnQ,
        GgufTensor attnK,
        GgufTensor attnV,
        GgufTensor attnOutput,
        GgufTensor attnQBias,
        GgufTensor attnKBias,
        GgufTensor attnVBias,
        GgufTensor attnQNorm,
        GgufTensor attnKNorm,
        GgufTensor attnPostNorm,
        GgufTensor ffnNorm,
        GgufTensor ffnGate,
        GgufTensor ffnUp,
        GgufTensor ffnDown,
        GgufTensor ffnPostNorm) {
}
