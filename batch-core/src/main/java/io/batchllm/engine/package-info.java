/**
 * The local inference engine: {@link io.batchllm.engine.LocalEngine} serves one model with continuous
 * batching over a {@link io.batchllm.engine.model.DeviceExecutor} (parse, template, tokenize, step,
 * sample, detokenize, stop, respond), {@link io.batchllm.engine.LocalBackend} exposes engines as an
 * {@link io.batchllm.spi.InferenceBackend}, and {@link io.batchllm.engine.EngineLimits} bounds their
 * concurrency. The device backends ({@code cpu}) plug an executor into these through a
 * {@link io.batchllm.spi.InferenceBackendProvider}.
 */
package io.batchllm.engine;
