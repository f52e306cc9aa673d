/**
 * What a model is and how a device runs it, independent of any device: {@link
 * io.batchllm.engine.model.ModelConfig} and {@link io.batchllm.engine.model.ModelWeights} (read and
 * checked from GGUF), and the executor contract {@link io.batchllm.engine.model.DeviceExecutor}: sequences
 * registered once ({@link io.batchllm.engine.model.SequenceStart}), steps that carry only what changed
 * ({@link io.batchllm.engine.model.StepPlan}) and return sampled tokens ({@link
 * io.batchllm.engine.model.StepResult}) through a {@link io.batchllm.engine.model.StepHandle}, the checks
 * every executor shares ({@link io.batchllm.engine.model.SlotTable}), the paged KV cache's shape
 * {@link io.batchllm.engine.model.KvLayout} and the device's suggested limits
 * {@link io.batchllm.engine.model.DeviceDefaults}. {@link io.batchllm.engine.model.StepInput} and its
 * companions are the CPU's reference logits path for tests, not part of the contract.
 */
package io.batchllm.engine.model;
