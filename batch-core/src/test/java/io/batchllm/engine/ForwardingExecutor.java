package io.batchllm.engine;

import io.batchllm.engine.model.DeviceDefaults;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;

/** An executor that hands everything to another; test executors override what they change. */
abstract class ForwardingExecutor implements DeviceExecutor {
    final DeviceExecutor delegate;

    ForwardingExecutor(DeviceExecutor delegate) {
        this.delegate = delegate;
    }

    @Override
    public ModelConfig config() {
        return delegate.config();
    }

    @Override
    public DeviceDefaults defaults() {
        return delegate.defaults();
    }

    @Override
    public long kvBytesPerToken() {
        return delegate.kvBytesPerToken();
    }

    @Override
    public void allocateKvCache(KvLayout layout, int slots) {
        delegate.allocateKvCache(layout, slots);
    }

    @Override
    public KvLayout kvLayout() {
        return delegate.kvLayout();
    }

    @Override
    public int slots() {
        return delegate.slots();
    }

    @Override
    public StepHandle submit(StepPlan plan) {
        return delegate.submit(plan);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
