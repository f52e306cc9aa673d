/**
 * The CUDA backend's parts, not API: the availability probe, the NVRTC kernel sources and their
 * compiler, the small interfaces over the CUDA runtime, cuBLAS and NVML (with their JavaCPP
 * implementations), and the host-side plans an executor follows (bf16 weight layout, fused
 * projections, cuBLAS GEMM parameters, KV cache sizing, CUDA graph batch sizes).
 */
package io.batchllm.cuda.internal;
