package io.batchllm.cuda.internal;

import io.batchllm.engine.model.DeviceDefaults;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.sampling.Sampler;
import io.batchllm.engine.sampling.SamplingParams;

/**
 * The reference for the CUDA executor's sampling: the CUDA executor's own forward pass, asked for
 * greedy samples with nothing that changes the logits, and its logits sampled on the host by the CPU
 * engine's {@link Sampler} with each sequence's real settings, whose tokens are fed back as plain
 * tokens. Its logits are the CUDA executor's (bf16), so comparing the two compares only where the
 * sampling happens: on the device or on the CPU. Steps run synchronously; one pass per step.
 */
final class HostSampledExecutor implements DeviceExecutor {
    private static final SamplingParams RAW = SamplingParams.builder().temperature(0).build();

    private final CudaExecutor device;
    private final StepPlan inner = new StepPlan();
    private Sampler[] samplers = new Sampler[0];
    private int[] last = new int[0];
    private float[] scratch;

    HostSampledExecutor(CudaExecutor device) {
        this.device = device;
        this.scratch = new float[device.config().vocabSize()];
    }

    @Override
    public ModelConfig config() {
        return device.config();
    }

    @Override
    public DeviceDefaults defaults() {
        return device.defaults();
    }

    @Override
    public long kvBytesPerToken() {
        return device.kvBytesPerToken();
    }

    @Override
    public void allocateKvCache(KvLayout layout, int slots) {
        device.allocateKvCache(layout, slots);
        samplers = new Sampler[slots];
        last = new int[slots];
    }

    @Override
    public KvLayout kvLayout() {
        return device.kvLayout();
    }

    @Override
    public int slots() {
        return device.slots();
    }

    @Override
    public StepHandle submit(StepPlan plan) {
        inner.clear();
        for (int i = 0; i < plan.releaseCount(); i++) {
            inner.release(plan.releasedSlot(i));
        }
        int vocab = config().vocabSize();
        for (int i = 0; i < plan.startCount(); i++) {
            SequenceStart s = plan.started(i);
            samplers[s.slot()] = Sampler.create(s.sampling(), vocab, s.choiceIndex(), s.seed(), s.promptTokens(),
                    s.generatedTokens(), s.endTokens());
            inner.start(new SequenceStart(s.slot(), RAW, s.seed(), 0, s.blockTable(), s.cachedTokens(),
                    s.promptTokens(), s.generatedTokens(), new int[0]));
        }
        for (int e = 0; e < plan.entryCount(); e++) {
            int slot = plan.slot(e);
            if (plan.isFeedback(e)) {
                inner.chunk(slot, plan.position(e), new int[] {last[slot]}, 0, 1, true);
            } else {
                int[] tokens = new int[plan.tokenCount(e)];
                for (int t = 0; t < tokens.length; t++) {
                    tokens[t] = plan.token(e, t);
                }
                inner.chunk(slot, plan.position(e), tokens, 0, tokens.length, plan.samples(e));
            }
            for (int b = 0; b < plan.newBlockCount(e); b++) {
                inner.addBlock(plan.newBlock(e, b));
            }
        }
        device.submit(inner).await();
        StepResult result = new StepResult(plan.entryCount(), SamplingParams.MAX_TOP_LOGPROBS);
        int row = 0;
        for (int e = 0; e < plan.entryCount(); e++) {
            if (!plan.samples(e)) {
                continue;
            }
            int slot = plan.slot(e);
            Sampler sampler = samplers[slot];
            long[] mask = null;
            if (plan.hasMask(e)) {
                mask = new long[plan.maskLength(e)];
                plan.copyMask(e, mask, 0);
            }
            int token = sampler.sample(device.logits(row++), 0, scratch, mask);
            result.setToken(e, token, sampler.logprob());
            for (int k = 0; k < sampler.topLogprobCount(); k++) {
                result.setTop(e, k, sampler.topLogprobToken(k), sampler.topLogprobValue(k));
            }
            last[slot] = token;
        }
        return StepHandle.completed(result);
    }

    @Override
    public void close() {
        device.close();
    }
}
