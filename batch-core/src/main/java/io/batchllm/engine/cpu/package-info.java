/**
 * The CPU backend: {@link io.batchllm.engine.cpu.CpuExecutor} runs the Llama forward pass with F32
 * activations, the Vector API and a fixed thread pool.
 */
package io.batchllm.engine.cpu;
