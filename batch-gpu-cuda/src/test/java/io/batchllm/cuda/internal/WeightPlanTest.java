package io.batchllm.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.GgufTensor;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.model.LayerWeights;
import io.batchllm.engine.model.ModelWeights;
import io.batchllm.engine.tensor.Dequantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The device weight layout of small synthetic models of every GGUF type the engine reads. */
class WeightPlanTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** The values batch-core decodes, rounded to bf16: what a bf16 region must hold, row for row. */
    private static List<Short> expectedBf16(List<GgufTensor> tensors) {
        List<Short> out = new ArrayList<>();
        for (GgufTensor t : tensors) {
            for (float f : Dequantize.toFloat(t)) {
                out.add(Bf16.fromFloat(f));
            }
        }
        return out;
    }

    private static void assertRegionHolds(MemorySegment staging, WeightPlan.Region r, List<GgufTensor> tensors) {
        List<Short> expected = expectedBf16(tensors);
        assertEquals(expected.size() * 2L, r.bytes(), r.name());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), staging.get(SHORT, r.offset() + 2L * i), r.name() + " value " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class)
    void everyTensorTypeBecomesBf16RowsWithFusedProjectionsStackedInOrder(GgmlType type) {
        boolean tied = type.ordinal() % 2 == 0;
        Path file = dir.resolve(type + ".gguf");
        SyntheticModel.builder().dim(256).layers(2).heads(4).kvHeads(2).ffnHidden(512).vocabSize(300)
                .contextLength(64).weightType(type).tiedOutput(tied).qkvBias(type == GgmlType.F16)
                .architecture(type == GgmlType.F16 ? "qwen2" : "llama").build().write(file);
        try (GgufFile gguf = GgufFile.open(file); Arena arena = Arena.ofConfined()) {
            ModelWeights model = ModelWeights.fromGguf(gguf);
            WeightPlan plan = WeightPlan.of(model);
            MemorySegment staging = arena.allocate(plan.totalBytes(), 256);
            plan.write(staging);

            long end = 0;
            for (WeightPlan.Region r : plan.regions().values()) {
                assertEquals(0, r.offset() % WeightPlan.ALIGNMENT, r.name() + " is aligned");
                end = Math.max(end, r.offset() + r.bytes());
            }
            assertTrue(end <= plan.totalBytes());
            assertNoOverlap(plan);

            LayerWeights l1 = model.layers().get(1);
            assertRegionHolds(staging, plan.region("blk.1.qkv"), List.of(l1.attnQ(), l1.attnK(), l1.attnV()));
            assertEquals(model.config().queryDim() + 2 * model.config().kvDim(), plan.region("blk.1.qkv").rows());
            assertRegionHolds(staging, plan.region("blk.1.gate_up"), List.of(l1.ffnGate(), l1.ffnUp()));
            assertEquals(2 * model.config().feedForwardLength(), plan.region("blk.1.gate_up").rows());
            assertRegionHolds(staging, plan.region("blk.0.ffn_down"), List.of(model.layers().get(0).ffnDown()));
            assertRegionHolds(staging, plan.region("token_embd"), List.of(model.tokenEmbedding()));
            assertEquals(tied, plan.region("output").offset() == plan.region("token_embd").offset(),
                    "a tied LM head is the embedding's region");
            if (type == GgmlType.BF16) {
                GgufTensor q = l1.attnQ();
                for (int i = 0; i < 64; i++) {
                    assertEquals(q.data().get(SHORT, 2L * i), staging.get(SHORT, plan.region("blk.1.qkv").offset() + 2L * i),
                            "bf16 weights are copied bit for bit");
                }
            }
            float[] norm = Dequantize.toFloat(l1.attnNorm());
            assertEquals(norm[7], staging.get(FLOAT, plan.region("blk.1.attn_norm").offset() + 4 * 7));
            double[] freqs = model.ropeFrequencies();
            assertEquals(freqs[3], staging.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, plan.region("rope_freqs").offset() + 24));
            assertEquals(type == GgmlType.F16, plan.has("blk.0.qkv_bias"));
            if (plan.has("blk.0.qkv_bias")) {
                float[] kBias = Dequantize.toFloat(model.layers().get(0).attnKBias());
                assertEquals(kBias[1], staging.get(FLOAT, plan.region("blk.0.qkv_bias").offset()
                        + 4L * (model.config().queryDim() + 1)), "biases follow the rows' q, k, v order");
            }
        }
    }

    private static void assertNoOverlap(WeightPlan plan) {
        // a tied LM head shares the embedding's region on purpose
        List<WeightPlan.Region> real = plan.regions().values().stream()
                .filter(r -> !(r.name().equals("output") && r.sources().isEmpty()))
                .sorted(java.util.Comparator.comparingLong(WeightPlan.Region::offset)).toList();
        for (int i = 1; i < real.size(); i++) {
            WeightPlan.Region a = real.get(i - 1);
            WeightPlan.Region b = real.get(i);
            assertFalse(a.offset() + a.bytes() > b.offset(), a.name() + " overlaps " + b.name());
        }
    }
}
