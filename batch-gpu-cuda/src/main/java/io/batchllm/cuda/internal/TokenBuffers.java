package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.engine.model.ModelConfig;

/**
 * The activations of one forward pass of up to {@code tokens} tokens, allocated once: the fp32
 * residual stream, the bf16 inputs of the GEMMs, the fp32 GEMM outputs, attention's split partials,
 * and the pass's inputs from the host ({@link PassInput}). A step with more tokens runs as several
 * passes over these buffers.
 *
 * <p>Not thread safe; closing frees them.
 */
final class TokenBuffers implements AutoCloseable {
    final int tokens;
    final DeviceBuffer x;
    final DeviceBuffer xb;
    final DeviceBuffer qkv;
    final DeviceBuffer att;
    final DeviceBuffer gateUp;
    final DeviceBuffer ffnAct;
    final DeviceBuffer partialAcc;
    final DeviceBuffer partialMl;
    final DeviceBuffer input;
    private final DeviceAllocations owned;

    TokenBuffers(Gpu gpu, ModelConfig c, int tokens, int splits) {
        this.owned = new DeviceAllocations(gpu);
        this.tokens = tokens;
        long t = tokens;
        try {
            x = owned.allocate(4 * t * c.embeddingLength());
            xb = owned.allocate(2 * t * c.embeddingLength());
            qkv = owned.allocate(4 * t * qkvWidth(c));
            att = owned.allocate(2 * t * c.queryDim());
            gateUp = owned.allocate(4 * t * 2 * c.feedForwardLength());
            ffnAct = owned.allocate(2 * t * c.feedForwardLength());
            partialAcc = owned.allocate(splits > 1 ? 4 * t * c.headCount() * splits * c.headDim() : 4);
            partialMl = owned.allocate(splits > 1 ? 4 * t * c.headCount() * splits * 2 : 4);
            input = owned.allocate(PassInput.bytes(tokens));
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Values in a fused QKV row: the queries, then the keys and values of the KV heads. */
    static int qkvWidth(ModelConfig c) {
        return c.queryDim() + 2 * c.kvDim();
    }

    @Override
    public void close() {
        owned.close();
    }
}
