package io.batchllm.cuda.internal;

import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.model.LayerWeights;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.ModelWeights;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where each weight lives in the one device allocation that holds a model, and in what form: GEMM
 * weights as bf16 rows (fused: {@code blk.N.qkv} = Wq‖Wk‖Wv, {@code blk.N.gate_up} = Wgate‖Wup), norm
 * weights and biases as F32, the RoPE frequencies as F64 (see {@link ModelWeights#ropeFrequencies()}).
 * A tied LM head is the embedding's region, not a copy. Every region starts on a
 * {@value #ALIGNMENT}-byte boundary (cuBLAS wants 16; 256 is what cudaMalloc gives).
 *
 * <p>Immutable. {@link #write} fills a host staging buffer of {@link #totalBytes()} with the layout;
 * {@link #writeRegion} writes one region, for an upload through a smaller staging buffer.
 */
public final class WeightPlan {
    /** Alignment of every region, in bytes. */
    public static final long ALIGNMENT = 256;

    /** What a region holds. */
    public enum Form {
        /** bf16 rows of one tensor. */
        BF16,
        /** bf16 rows of several tensors, stacked. */
        BF16_STACKED,
        /** F32 values of a vector tensor. */
        F32,
        /** F64 RoPE frequencies. */
        F64_ROPE
    }

    /** One region: its bytes from {@code offset}, the rows it holds (GEMM output features) and its sources. */
    public record Region(String name, Form form, long offset, long bytes, int rows, List<GgufTensor> sources) {
    }

    private final ModelWeights model;
    private final Map<String, Region> regions;
    private final long totalBytes;

    private WeightPlan(ModelWeights model, Map<String, Region> regions, long totalBytes) {
        this.model = model;
        this.regions = regions;
        this.totalBytes = totalBytes;
    }

    /** The plan of {@code model}. */
    public static WeightPlan of(ModelWeights model) {
        Builder b = new Builder();
        ModelConfig c = model.config();
        b.add("token_embd", Form.BF16, List.of(model.tokenEmbedding()));
        b.add("output_norm", Form.F32, List.of(model.outputNorm()));
        if (model.outputTied()) {
            b.alias("output", "token_embd");
        } else {
            b.add("output", Form.BF16, List.of(model.output()));
        }
        b.addRope("rope_freqs", c.ropeDimension() / 2);
        for (int i = 0; i < model.layers().size(); i++) {
            LayerWeights l = model.layers().get(i);
            String p = "blk." + i + ".";
            b.add(p + "attn_norm", Form.F32, List.of(l.attnNorm()));
            b.add(p + "qkv", Form.BF16_STACKED, List.of(l.attnQ(), l.attnK(), l.attnV()));
            if (l.attnQBias() != null || l.attnKBias() != null || l.attnVBias() != null) {
                if (l.attnQBias() == null || l.attnKBias() == null || l.attnVBias() == null) {
                    // the fused QKV row takes one bias vector over all three parts
                    throw new IllegalArgumentException("layer " + i + " has biases for only some of attn_q, attn_k "
                            + "and attn_v; the CUDA backend needs all three or none");
                }
                b.add(p + "qkv_bias", Form.F32, List.of(l.attnQBias(), l.attnKBias(), l.attnVBias()));
            }
            b.add(p + "attn_output", Form.BF16, List.of(l.attnOutput()));
            b.add(p + "ffn_norm", Form.F32, List.of(l.ffnNorm()));
            b.add(p + "gate_up", Form.BF16_STACKED, List.of(l.ffnGate(), l.ffnUp()));
            b.add(p + "ffn_down", Form.BF16, List.of(l.ffnDown()));
        }
        return new WeightPlan(model, Map.copyOf(b.regions), b.offset);
    }

    /** The region called {@code name} ({@code token_embd}, {@code output}, {@code blk.3.qkv}, …). */
    public Region region(String name) {
        return Objects.requireNonNull(regions.get(name), () -> "no weight region '" + name + "'");
    }

    /** Whether the model has the region (qwen2's {@code blk.N.qkv_bias}). */
    public boolean has(String name) {
        return regions.containsKey(name);
    }

    /** Every region, by name. */
    public Map<String, Region> regions() {
        return regions;
    }

    /** Bytes of the whole allocation. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Writes every region into {@code staging}, which must hold {@link #totalBytes()} bytes. */
    public void write(MemorySegment staging) {
        if (staging.byteSize() < totalBytes) {
            throw new IllegalArgumentException("the staging buffer holds " + staging.byteSize() + " bytes, the plan needs "
                    + totalBytes);
        }
        for (Region r : regions.values()) {
            writeRegion(r, staging.asSlice(r.offset(), r.bytes()));
        }
    }

    /** Whether {@code r} is another region's bytes (the tied LM head), with nothing of its own to write. */
    public static boolean isAlias(Region r) {
        return r.sources().isEmpty() && r.form() != Form.F64_ROPE;
    }

    /** The largest region's bytes: a staging buffer that size can upload the model region by region. */
    public long largestRegionBytes() {
        return regions.values().stream().mapToLong(Region::bytes).max().orElse(0);
    }

    /** Writes region {@code r}'s bytes at the start of {@code dst} (at least {@code r.bytes()} long); an alias writes nothing. */
    public void writeRegion(Region r, MemorySegment dst) {
        switch (r.form()) {
            case BF16, BF16_STACKED -> {
                if (!isAlias(r)) {
                    Bf16Weights.writeStacked(r.sources(), dst, 0);
                }
            }
            case F32 -> {
                long at = 0;
                for (GgufTensor t : r.sources()) {
                    at += Bf16Weights.writeF32(t, dst, at);
                }
            }
            case F64_ROPE -> MemorySegment.copy(MemorySegment.ofArray(model.ropeFrequencies()), 0, dst, 0, r.bytes());
        }
    }

    private static final class Builder {
        final Map<String, Region> regions = new LinkedHashMap<>();
        long offset;

        void add(String name, Form form, List<GgufTensor> sources) {
            long bytes = 0;
            for (GgufTensor t : sources) {
                bytes += form == Form.F32 ? 4 * t.elementCount() : Bf16Weights.bytes(t);
            }
            int rows = form == Form.F32 ? 1 : Bf16Weights.stackedRows(sources);
            put(new Region(name, form, offset, bytes, rows, List.copyOf(new ArrayList<>(sources))));
        }

        void addRope(String name, int pairs) {
            put(new Region(name, Form.F64_ROPE, offset, 8L * pairs, 1, List.of()));
        }

        void alias(String name, String of) {
            Region r = regions.get(of);
            regions.put(name, new Region(name, r.form(), r.offset(), r.bytes(), r.rows(), List.of()));
        }

        private void put(Region r) {
            regions.put(r.name(), r);
            offset = align(offset + r.bytes());
        }

        static long align(long at) {
            return (at + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        }
    }
}
