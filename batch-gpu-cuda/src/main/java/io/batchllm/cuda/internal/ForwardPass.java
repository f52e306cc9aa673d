package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Blas;
import io.batchllm.cuda.internal.device.DataType;
import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.GemmCall;
import io.batchllm.cuda.internal.device.Stream;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;

/**
 * The work of one forward pass, queued on the executor's stream (eagerly, or into a graph being
 * captured): embedding gather; per layer RMSNorm, the fused QKV GEMM, RoPE with the K/V write,
 * attention, the output GEMM adding into the fp32 residual stream (beta = 1), RMSNorm, the fused
 * gate‖up GEMM, SiLU·up and the down GEMM adding into the residual stream; then the final RMSNorm of
 * the sampling rows only, the LM head of those rows, and the sampling kernel. Every GEMM is
 * {@link GemmCall#linear}: bf16 weights and inputs, fp32 out.
 *
 * <p>The KV cache holds all K blocks of every layer, then all V blocks: layer {@code l}'s keys start
 * {@code l * layerBytes} in, its values {@code (layers + l) * layerBytes} in. Not thread safe.
 */
final class ForwardPass {
    private final ModelConfig config;
    private final Stream stream;
    private final Blas blas;
    private final ForwardKernels kernels;
    private final TokenBuffers work;
    private final Layers layers;
    private final int splitLength;
    private final int splits;

    ForwardPass(ModelConfig config, Stream stream, Blas blas, ForwardKernels kernels, TokenBuffers work,
                DeviceWeights weights, int splitLength, int splits) {
        this.config = config;
        this.stream = stream;
        this.blas = blas;
        this.kernels = kernels;
        this.work = work;
        this.layers = new Layers(weights, config.blockCount());
        this.splitLength = splitLength;
        this.splits = splits;
    }

    /** Bytes of one layer's K (or V) in a cache of {@code layout}: its blocks and one spare. */
    static long layerBytes(ModelConfig config, KvLayout layout) {
        return (layout.blockCount() + 1L) * layout.blockSize() * config.kvDim() * 2;
    }

    /**
     * Queues {@code pass} (its inputs uploaded into the token buffers' input block) over the cache
     * {@code kv} laid out as {@code layout}, then the final norm, LM head and sampling of its rows.
     */
    void queue(PassInput pass, SlotBuffers slotState, DeviceBuffer kv, KvLayout layout) {
        int n = pass.tokens;
        int dim = config.embeddingLength();
        int ffn = config.feedForwardLength();
        long in = work.input.address();
        long x = work.x.address();
        long xb = work.xb.address();
        long qkv = work.qkv.address();
        long att = work.att.address();
        long positions = in + pass.positionAt();
        long tokenSlot = in + pass.slotAt();
        long tables = slotState.blockTables.address();
        int stride = slotState.maxBlocks;
        int blockSize = layout.blockSize();
        long layer = layerBytes(config, layout);
        long kBase = kv.address();
        long vBase = kBase + config.blockCount() * layer;
        kernels.embed(stream, x, layers.tokenEmbedding, in + pass.tokenAt(), n);
        for (int l = 0; l < config.blockCount(); l++) {
            long k = kBase + l * layer;
            long v = vBase + l * layer;
            kernels.rmsnorm(stream, xb, x, layers.attnNorm[l], 0, n);
            blas.gemm(GemmCall.linear(TokenBuffers.qkvWidth(config), dim, n, DataType.F32, false), layers.qkv[l], xb, qkv);
            kernels.ropeKvWrite(stream, qkv, layers.qkvBias[l], k, v, positions, tokenSlot, tables, stride,
                    layers.ropeFreqs, blockSize, n);
            kernels.attention(stream, att, work.partialAcc.address(), work.partialMl.address(), qkv, k, v, positions,
                    tokenSlot, tables, stride, in + pass.tileFirstAt(), in + pass.tileCountAt(), blockSize,
                    splitLength, splits, pass.tiles, n);
            blas.gemm(GemmCall.linear(dim, config.queryDim(), n, DataType.F32, true), layers.attnOutput[l], att, x);
            kernels.rmsnorm(stream, xb, x, layers.ffnNorm[l], 0, n);
            blas.gemm(GemmCall.linear(2 * ffn, dim, n, DataType.F32, false), layers.gateUp[l], xb,
                    work.gateUp.address());
            kernels.siluMul(stream, work.ffnAct.address(), work.gateUp.address(), n);
            blas.gemm(GemmCall.linear(dim, ffn, n, DataType.F32, true), layers.down[l], work.ffnAct.address(), x);
        }
        int rows = pass.rows;
        if (rows > 0) {
            kernels.rmsnorm(stream, slotState.finalIn.address(), x, layers.outputNorm, in + pass.rowLastAt(), rows);
            blas.gemm(GemmCall.linear(config.vocabSize(), dim, rows, DataType.F32, false), layers.output,
                    slotState.finalIn.address(), slotState.logits.address());
            kernels.sample(stream, slotState, in + pass.rowSlotAt(), in + pass.rowGenAt(), in + pass.rowMaskedAt(),
                    rows);
        }
    }

    /** The weights' device addresses, per layer, resolved once. */
    private static final class Layers {
        final long tokenEmbedding;
        final long outputNorm;
        final long output;
        final long ropeFreqs;
        final long[] attnNorm;
        final long[] qkv;
        final long[] qkvBias;
        final long[] attnOutput;
        final long[] ffnNorm;
        final long[] gateUp;
        final long[] down;

        Layers(DeviceWeights w, int n) {
            tokenEmbedding = w.address("token_embd");
            outputNorm = w.address("output_norm");
            output = w.address("output");
            ropeFreqs = w.address("rope_freqs");
            attnNorm = new long[n];
            qkv = new long[n];
            qkvBias = new long[n];
            attnOutput = new long[n];
            ffnNorm = new long[n];
            gateUp = new long[n];
            down = new long[n];
            for (int l = 0; l < n; l++) {
                String p = "blk." + l + ".";
                attnNorm[l] = w.address(p + "attn_norm");
                qkv[l] = w.address(p + "qkv");
                qkvBias[l] = w.has(p + "qkv_bias") ? w.address(p + "qkv_bias") : 0;
                attnOutput[l] = w.address(p + "attn_output");
                ffnNorm[l] = w.address(p + "ffn_norm");
                gateUp[l] = w.address(p + "gate_up");
                down[l] = w.address(p + "ffn_down");
            }
        }
    }
}
