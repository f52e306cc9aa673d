/**
 * The CUDA backend: {@link io.batchllm.cuda.CudaBackendProvider}, found by {@code ServiceLoader}.
 * Everything else of the module (probe, kernels, JavaCPP layer, weight layout) is in
 * {@code io.batchllm.cuda.internal} and is not API.
 */
package io.batchllm.cuda;
