package io.batchllm.engine.cpu;

import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.model.LayerWeights;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.tensor.Matrix;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The weights in the form the CPU pass reads: matrices stay in the mapped file behind {@link Matrix}
 * (any type with a kernel); the small 1-D tensors (norms, biases) are copied to F32 arrays once.
 * Building this is where an unsupported tensor type is refused, at load.
 *
 * @param ropeFrequencies per layer, RoPE's frequency of each rotated pair (see
 *     {@link ModelWeights#ropeFrequencies(int)})
 */
record CpuModel(ModelConfig config, Matrix tokenEmbedding, float[] outputNorm, Matrix output,
                double[][] ropeFrequencies, List<Layer> layers) {

    /** One block; the tensors an architecture does not have are null (see {@link LayerWeights}). */
    record Layer(float[] attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo,
                 float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm, float[] attnPostNorm,
                 float[] ffnNorm, Matrix gate, Matrix up, Matrix down, float[] ffnPostNorm) {
    }

    static CpuModel of(ModelWeights w) {
        Matrix embedding = Matrix.of(w.tokenEmbedding());
        // A tied head is the same tensor: one Matrix, so both uses share one set of (any) caches.
        Matrix output = w.outputTied() ? embedding : Matrix.of(w.output());
        List<Layer> layers = w.layers().stream().map(CpuModel::layer).toList();
        double[][] rope = IntStream.range(0, w.config().blockCount()).mapToObj(w::ropeFrequencies)
                .toArray(double[][]::new);
        return new CpuModel(w.config(), embedding, vector(w.outputNorm()), output, rope, layers);
    }

    private static Layer layer(LayerWeights l) {
        return new Layer(vector(l.attnNorm()), Matrix.of(l.attnQ()), Matrix.of(l.attnK()), Matrix.of(l.attnV()),
                Matrix.of(l.attnOutput()), vector(l.attnQBias()), vector(l.attnKBias()), vector(l.attnVBias()),
                vector(l.attnQNorm()), vector(l.attnKNorm()), vector(l.attnPostNorm()),
                vector(l.ffnNorm()), Matrix.of(l.ffnGate()), Matrix.of(l.ffnUp()), Matrix.of(l.ffnDown()),
                vector(l.ffnPostNorm()));
    }

    /** A 1-D tensor as F32 values, or null for an absent (optional) tensor. */
    private static float[] vector(GgufTensor t) {
        if (t == null) {
            return null;
        }
        float[] v = new float[(int) t.elementCount()];
        Matrix.of(t).dequantizeRow(0, v, 0);
        return v;
    }
}
