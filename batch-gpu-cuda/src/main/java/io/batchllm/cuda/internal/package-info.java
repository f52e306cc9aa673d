/**
 * The CUDA backend's parts, not API: the CUDA executor and the buffers it keeps on the device, the
 * backend that wraps the local engine with the GPU's gauges, the availability probe, the NVRTC kernel
 * sources, and the host-side plans the executor follows (bf16 weight layout, fused projections, KV
 * cache sizing, CUDA graph batch sizes). The small interfaces over the CUDA runtime, cuBLAS, NVRTC and
 * NVML, with their JavaCPP implementations, are in {@code .device}.
 */
package io.batchllm.cuda.internal;
