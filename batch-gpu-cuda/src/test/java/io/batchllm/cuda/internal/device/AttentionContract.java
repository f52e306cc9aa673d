package io.batchllm.cuda.internal.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.batchllm.cuda.internal.Bf16;
import io.batchllm.cuda.internal.KernelSource;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * RoPE with the paged KV write, and paged attention (decodes and prefill chunks through one kernel,
 * split over long contexts), against plain Java: the CPU engine's rotation, and softmax attention over
 * the same bf16 keys and values; and that a token's attention output is the same bits however it is
 * scheduled.
 */
abstract class AttentionContract extends GpuTestBase {
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 8;
    static final int BLOCK = 4;
    static final int ROW = (HEADS + 2 * KV_HEADS) * HEAD_DIM;
    static final int KV_DIM = KV_HEADS * HEAD_DIM;

    /** Cache element of (block, kv head, slot, d), as rope_kv_write documents it. */
    static int cacheIndex(int block, int head, int slot, int d) {
        return ((block * KV_HEADS + head) * BLOCK + slot) * HEAD_DIM + d;
    }

    @Test
    void ropeRotatesQueriesAndKeysAndWritesKeysAndValuesIntoTheirBlockSlotsNormPairs() {
        checkRope(false);
    }

    @Test
    void ropeRotatesQueriesAndKeysAndWritesKeysAndValuesIntoTheirBlockSlotsNeoxPairs() {
        checkRope(true);
    }

    private void checkRope(boolean neox) {
        int ropeDim = 6;  // fewer than HEAD_DIM: the last two values of each head pass through
        int pairs = ropeDim / 2;
        double[] freqs = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            freqs[i] = Math.pow(10000, -2.0 * i / ropeDim) / (i == 2 ? 8.0 : 1.0);  // one Llama-3.1-style divisor
        }
        int[] positions = {3, 4, 0};
        int[] tokenSeq = {0, 0, 1};
        int stride = 2;
        int[] tables = {2, 0, 1, 3};  // sequence 0: blocks 2, 0; sequence 1: blocks 1, 3
        float[] qkv = randomFloats(3 * ROW, 1f);
        float[] bias = randomFloats(ROW, 0.1f);
        DeviceBuffer qkvBuf = mem.floats(qkv);
        DeviceBuffer kCache = mem.zeros(4L * BLOCK * KV_DIM * 2);
        DeviceBuffer vCache = mem.zeros(4L * BLOCK * KV_DIM * 2);
        kernel(KernelSource.ROPE_KV, "rope_kv_write").launch(LaunchShape.of(3, 16), stream, KernelArgs.of()
                .pointer(qkvBuf).pointer(mem.floats(bias)).pointer(kCache).pointer(vCache).pointer(mem.ints(positions))
                .pointer(mem.ints(tokenSeq)).pointer(mem.ints(tables)).i32(stride).pointer(mem.doubles(freqs))
                .i32(HEADS).i32(KV_HEADS).i32(HEAD_DIM).i32(ropeDim).i32(neox ? 1 : 0).i32(BLOCK));

        float[] expected = qkv.clone();
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < ROW; i++) {
                expected[t * ROW + i] += bias[i];
            }
            for (int h = 0; h < HEADS + KV_HEADS; h++) {
                for (int i = 0; i < pairs; i++) {
                    double angle = positions[t] * freqs[i];
                    float cos = (float) Math.cos(angle);
                    float sin = (float) Math.sin(angle);
                    int a = t * ROW + h * HEAD_DIM + (neox ? i : 2 * i);
                    int b = a + (neox ? pairs : 1);
                    float x0 = expected[a];
                    float x1 = expected[b];
                    expected[a] = x0 * cos - x1 * sin;
                    expected[b] = x0 * sin + x1 * cos;
                }
            }
        }
        float[] actual = mem.readFloats(qkvBuf, 3 * ROW);
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < HEADS * HEAD_DIM; i++) {
                assertEquals(expected[t * ROW + i], actual[t * ROW + i], 1e-5f, "query " + i + " of token " + t);
            }
        }
        short[] k = mem.readShorts(kCache, 4 * BLOCK * KV_DIM);
        short[] v = mem.readShorts(vCache, 4 * BLOCK * KV_DIM);
        for (int t = 0; t < 3; t++) {
            int block = tables[tokenSeq[t] * stride + positions[t] / BLOCK];
            for (int h = 0; h < KV_HEADS; h++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    int src = t * ROW + HEADS * HEAD_DIM + h * HEAD_DIM + d;
                    int at = cacheIndex(block, h, positions[t] % BLOCK, d);
                    assertEquals(Bf16.round(expected[src]), Bf16.toFloat(k[at]), 1e-6f, "key");
                    assertEquals(Bf16.fromFloat(expected[src + KV_DIM]), v[at], "value");
                }
            }
        }
    }

    /** Two sequences' caches: 37 and 70 positions of random bf16 keys and values. */
    private final int[] lengths = {37, 70};
    private final int tableStride = 18;
    private final int[] tables = new int[2 * tableStride];
    private short[] kc;
    private short[] vc;

    private void fillCache() {
        int blocks = 2 * tableStride;
        kc = toBf16(randomFloats(blocks * BLOCK * KV_DIM, 1f));
        vc = toBf16(randomFloats(blocks * BLOCK * KV_DIM, 1f));
        for (int i = 0; i < blocks; i++) {
            // interleaved, back to front: positions never sit in the block order they are read in
            tables[(i % 2) * tableStride + i / 2] = blocks - 1 - i;
        }
    }

    /** Softmax attention of one query over positions [0, pos] of a sequence, in double. */
    private float[] reference(float[] qkv, int token, int head, int seq, int pos) {
        int kvHead = head / (HEADS / KV_HEADS);
        double scale = 1 / Math.sqrt(HEAD_DIM);
        double[] s = new double[pos + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = 0; p <= pos; p++) {
            int block = tables[seq * tableStride + p / BLOCK];
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
                dot += qkv[token * ROW + head * HEAD_DIM + d] * Bf16.toFloat(kc[cacheIndex(block, kvHead, p % BLOCK, d)]);
            }
            s[p] = dot * scale;
            max = Math.max(max, s[p]);
        }
        double sum = 0;
        for (int p = 0; p <= pos; p++) {
            s[p] = Math.exp(s[p] - max);
            sum += s[p];
        }
        float[] out = new float[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) {
            double acc = 0;
            for (int p = 0; p <= pos; p++) {
                int block = tables[seq * tableStride + p / BLOCK];
                acc += s[p] * Bf16.toFloat(vc[cacheIndex(block, kvHead, p % BLOCK, d)]);
            }
            out[d] = (float) (acc / sum);
        }
        return out;
    }

    /**
     * Runs the attention kernel (and the split merge) over {@code positions.length} tokens cut into
     * the given tiles, with splits of {@code splitLen} positions and a grid of {@code splits}.
     */
    private short[] attend(float[] qkv, int[] positions, int[] tokenSeq, int[] tileFirst, int[] tileCount, int splitLen,
                           int splits) {
        int tokens = positions.length;
        DeviceBuffer out = mem.zeros((long) tokens * HEADS * HEAD_DIM * 2);
        DeviceBuffer acc = mem.zeros((long) tokens * HEADS * splits * HEAD_DIM * 4);
        DeviceBuffer ml = mem.zeros((long) tokens * HEADS * splits * 2 * 4);
        DeviceBuffer pos = mem.ints(positions);
        int shared = (2 * 32 * (HEAD_DIM + 1) + 16 * HEAD_DIM + 16 * 32 + 3 * 16) * 4;
        kernel(KernelSource.ATTENTION, "attention").launch(new LaunchShape(tileFirst.length, HEADS, splits, 32, shared),
                stream, KernelArgs.of().pointer(out).pointer(acc).pointer(ml).pointer(mem.floats(qkv))
                        .pointer(mem.shorts(kc)).pointer(mem.shorts(vc)).pointer(pos).pointer(mem.ints(tokenSeq))
                        .pointer(mem.ints(tables)).i32(tableStride).pointer(mem.ints(tileFirst))
                        .pointer(mem.ints(tileCount)).i32(HEADS).i32(KV_HEADS).i32(HEAD_DIM).i32(BLOCK).i32(splitLen)
                        .f32((float) (1 / Math.sqrt(HEAD_DIM))));
        kernel(KernelSource.ATTENTION, "attention_combine").launch(new LaunchShape(tokens, HEADS, 1, 8, 0), stream,
                KernelArgs.of().pointer(out).pointer(acc).pointer(ml).pointer(pos).i32(HEADS).i32(HEAD_DIM).i32(splits)
                        .i32(splitLen));
        return mem.readShorts(out, tokens * HEADS * HEAD_DIM);
    }

    /** Every token its own tile, as the executor runs decodes. */
    private short[] decode(float[] qkv, int[] positions, int[] tokenSeq, int splits) {
        int[] first = new int[positions.length];
        int[] count = new int[positions.length];
        for (int t = 0; t < positions.length; t++) {
            first[t] = t;
            count[t] = 1;
        }
        return attend(qkv, positions, tokenSeq, first, count, 32, splits);
    }

    private void assertMatchesSoftmax(float[] qkv, short[] out, int[] positions, int[] tokenSeq) {
        for (int t = 0; t < positions.length; t++) {
            for (int h = 0; h < HEADS; h++) {
                float[] expected = reference(qkv, t, h, tokenSeq[t], positions[t]);
                float[] actual = new float[HEAD_DIM];
                for (int d = 0; d < HEAD_DIM; d++) {
                    actual[d] = Bf16.toFloat(out[(t * HEADS + h) * HEAD_DIM + d]);
                }
                assertClose(expected, actual, BF16_RELATIVE, 1e-3f, "token " + t + " head " + h);
            }
        }
    }

    @Test
    void decodeAttentionSplitOverTheContextMatchesSoftmaxAttention() {
        fillCache();
        float[] qkv = randomFloats(2 * ROW, 1f);
        int[] positions = {lengths[0] - 1, lengths[1] - 1};
        // splits of 32 positions: 2 and 3 of them, merged by attention_combine
        assertMatchesSoftmax(qkv, decode(qkv, positions, new int[] {0, 1}, 5), positions, new int[] {0, 1});
    }

    @Test
    void aDecodeTokensOutputDoesNotDependOnItsBatchMatesOrTheGridsSplitCount() {
        fillCache();
        float[] qkv = randomFloats(2 * ROW, 1f);
        short[] together = decode(qkv, new int[] {lengths[0] - 1, lengths[1] - 1}, new int[] {0, 1}, 5);
        float[] alone = Arrays.copyOf(qkv, ROW);
        short[] single = decode(alone, new int[] {lengths[0] - 1}, new int[] {0}, 2);
        assertArrayEquals(single, Arrays.copyOf(together, HEADS * HEAD_DIM));
    }

    /** A chunk of 20 tokens of sequence 1 at positions 45..64: 0..44 were prefilled by earlier steps. */
    private static int[] chunkPositions() {
        int[] positions = new int[20];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = 45 + i;
        }
        return positions;
    }

    @Test
    void prefillAttentionOfAChunkMatchesSoftmaxAttentionAndIgnoresTheTiling() {
        fillCache();
        int[] positions = chunkPositions();
        int[] tokenSeq = new int[positions.length];
        Arrays.fill(tokenSeq, 1);
        float[] qkv = randomFloats(positions.length * ROW, 1f);
        short[] out = attend(qkv, positions, tokenSeq, new int[] {0, 16}, new int[] {16, 4}, 32, 3);
        assertMatchesSoftmax(qkv, out, positions, tokenSeq);
        assertArrayEquals(out, attend(qkv, positions, tokenSeq, new int[] {0, 5}, new int[] {5, 15}, 32, 3),
                "a query's result does not depend on the tile it is in");
    }

    @Test
    void aTokenGetsTheSameBitsAsADecodeAsInAPromptChunk() {
        fillCache();
        int[] positions = chunkPositions();
        int[] tokenSeq = new int[positions.length];
        Arrays.fill(tokenSeq, 1);
        float[] qkv = randomFloats(positions.length * ROW, 1f);
        short[] chunk = attend(qkv, positions, tokenSeq, new int[] {0, 16}, new int[] {16, 4}, 32, 3);
        for (int t = 0; t < positions.length; t++) {
            float[] one = Arrays.copyOfRange(qkv, t * ROW, (t + 1) * ROW);
            short[] decoded = decode(one, new int[] {positions[t]}, new int[] {1}, 3);
            assertArrayEquals(decoded, Arrays.copyOfRange(chunk, t * HEADS * HEAD_DIM, (t + 1) * HEADS * HEAD_DIM),
                    "token at position " + positions[t]);
        }
    }
}
