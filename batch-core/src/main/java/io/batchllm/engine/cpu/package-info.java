/**
 * The CPU backend: {@link io.batchllm.engine.cpu.CpuExecutor} runs the Llama forward pass with F32
 * activations, the Vector API and a fixed thread pool; {@link io.batchllm.engine.cpu.CpuBackendProvider}
 * (provider name {@code cpu}) serves models with it through the local engine.
 */
package io.batchllm.engine.cpu;
