package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.DeviceBuffer;
import io.batchllm.cuda.internal.device.Gpu;
import io.batchllm.cuda.internal.device.PinnedBuffer;
import io.batchllm.cuda.internal.device.Stream;
import io.batchllm.engine.model.ModelWeights;

/**
 * A model's weights on the device, in one allocation laid out by {@link WeightPlan}, uploaded once:
 * region by region through one pinned staging buffer the size of the largest region (the embedding
 * table, usually), so the host never holds a second copy of the whole model. Closing frees them.
 */
final class DeviceWeights implements AutoCloseable {
    private final WeightPlan plan;
    private final DeviceBuffer buffer;

    private DeviceWeights(WeightPlan plan, DeviceBuffer buffer) {
        this.plan = plan;
        this.buffer = buffer;
    }

    /** Converts {@code weights} to the device layout and uploads them on {@code stream}; returns when done. */
    static DeviceWeights upload(Gpu gpu, Stream stream, ModelWeights weights) {
        WeightPlan plan = WeightPlan.of(weights);
        DeviceBuffer buffer = gpu.allocate(plan.totalBytes());
        try (PinnedBuffer staging = gpu.allocatePinned(Math.max(1, plan.largestRegionBytes()))) {
            for (WeightPlan.Region r : plan.regions().values()) {
                if (WeightPlan.isAlias(r) || r.bytes() == 0) {
                    continue;
                }
                // the previous region's copy must have read the staging buffer before it is rewritten
                stream.synchronize();
                plan.writeRegion(r, staging.segment());
                stream.upload(staging.segment().asSlice(0, r.bytes()), buffer, r.offset());
            }
            stream.synchronize();
        } catch (RuntimeException | Error e) {
            buffer.close();
            throw e;
        }
        return new DeviceWeights(plan, buffer);
    }

    /** The device address of region {@code name} (see {@link WeightPlan#region}). */
    long address(String name) {
        return buffer.address(plan.region(name).offset());
    }

    /** Whether the model has region {@code name}. */
    boolean has(String name) {
        return plan.has(name);
    }

    /** Bytes on the device. */
    long bytes() {
        return buffer.bytes();
    }

    @Override
    public void close() {
        buffer.close();
    }
}
