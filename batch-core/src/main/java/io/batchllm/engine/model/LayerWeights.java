package io.batchllm.engine.model;

import io.batchllm.engine.gguf.GgufTensor;

/**
 * The tensors of one transformer block ({@code blk.N.*}), shape-checked against the
 * {@link ModelConfig}. Shapes below are ggml's, {@code ne[0]} (the row length) first.
 *
 * @param attnNorm {@code attn_norm.weight} [dim]
 * @param attnQ {@code attn_q.weight} [dim, heads·headDim]
 * @param attnK {@code attn_k.weight} [dim, kvHeads·headDim]
 * @param attnV {@code attn_v.weight} [dim, kvHeads·headDim]
 * @param attnOutput {@code attn_output.weight} [heads·headDim, dim]
 * @param attnQBias {@code attn_q.bias} [heads·headDim], or null when the model has none
 * @param attnKBias {@code attn_k.bias} [kvHeads·headDim], or null
 * @param attnVBias {@code attn_v.bias} [kvHeads·headDim], or null
 * @param ffnNorm {@code ffn_norm.weight} [dim]
 * @param ffnGate {@code ffn_gate.weight} [dim, ffn]
 * @param ffnUp {@code ffn_up.weight} [dim, ffn]
 * @param ffnDown {@code ffn_down.weight} [ffn, dim]
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
        GgufTensor ffnNorm,
        GgufTensor ffnGate,
        GgufTensor ffnUp,
        GgufTensor ffnDown) {
}
