/**
 * What a model is and how a device runs it, independent of any device: {@link
 * io.batchllm.engine.model.ModelConfig} and {@link io.batchllm.engine.model.ModelWeights} (read and
 * checked from GGUF), and the executor contract {@link io.batchllm.engine.model.DeviceExecutor} with its
 * step description ({@link io.batchllm.engine.model.StepInput}, {@link io.batchllm.engine.model.SequenceStep},
 * {@link io.batchllm.engine.model.StepOutput}) and the paged KV cache's shape {@link io.batchllm.engine.model.KvLayout}.
 */
package io.batchllm.engine.model;
