/**
 * Token selection for the local engine: {@link io.batchllm.engine.sampling.SamplingParams} (a
 * request's sampling settings), {@link io.batchllm.engine.sampling.Sampler} (bias, penalties,
 * greedy/top-k/temperature/top-p/min-p, seeded draws, logprobs) and
 * {@link io.batchllm.engine.sampling.StopMatcher} (stop strings across token boundaries).
 */
package io.batchllm.engine.sampling;
