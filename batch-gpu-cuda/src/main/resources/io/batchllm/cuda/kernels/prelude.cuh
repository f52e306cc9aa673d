// BatchLLM kernel prelude: put in front of every kernel source before it is compiled.
//
// No CUDA header is included, so NVRTC needs no toolkit include directory: bf16 values travel as
// their 16 bits (unsigned short) and are widened by hand (f32 = bits << 16). Every kernel is
// extern "C" so that its symbol is its name.
//
// The reductions below use shared memory and __syncthreads only (no warp shuffles, no atomics), with
// a tree whose shape depends on blockDim alone: a row's result never depends on the other rows of a
// launch (batch invariance), and the sources also compile as plain C++ for the CPU emulator the tests
// run them on (BATCHLLM_EMULATOR, which defines __global__, threadIdx, __syncthreads and the rest).
// Every block size must be a power of two, at most 1024.

#ifndef BATCHLLM_EMULATOR
#define BLLM_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

typedef unsigned short bf16;
typedef unsigned long long u64;

#define BLLM_MAX_THREADS 1024
#define BLLM_NEG_INF (-__int_as_float(0x7f800000))

__device__ __forceinline__ float bf16_to_float(bf16 b) {
    return __uint_as_float(((unsigned int) b) << 16);
}

/** Round to nearest even, as Bf16.fromFloat does on the host; NaN stays a quiet NaN. */
__device__ __forceinline__ bf16 float_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (bf16) ((u >> 16) | 0x40u);
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16) (u >> 16);
}

/** IEEE half (GGUF's f16 scales) to float, normals, subnormals, zeros, infinities and NaN. */
__device__ __forceinline__ float half_to_float(unsigned short h) {
    unsigned int sign = ((unsigned int) h & 0x8000u) << 16;
    unsigned int exp = ((unsigned int) h >> 10) & 0x1fu;
    unsigned int man = (unsigned int) h & 0x3ffu;
    if (exp == 0) {
        // subnormal or zero: man * 2^-24
        float v = (float) man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) {
        return __uint_as_float(sign | 0x7f800000u | (man << 13));
    }
    return __uint_as_float(sign | ((exp + 112u) << 23) | (man << 13));
}

/** A tree reduction over the block's threads; every thread gets the result. */
template <typename T, typename Op>
__device__ T block_reduce(T v, T* scratch, Op op) {
    unsigned int t = threadIdx.x;
    scratch[t] = v;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) {
            scratch[t] = op(scratch[t], scratch[t + s]);
        }
        __syncthreads();
    }
    T r = scratch[0];
    __syncthreads();
    return r;
}

struct SumOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a + b; }
};

struct MaxOp {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

struct MinOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return b < a ? b : a; }
};

__device__ float block_sum_f(float v, float* scratch) { return block_reduce(v, scratch, SumOp()); }

__device__ double block_sum_d(double v, double* scratch) { return block_reduce(v, scratch, SumOp()); }

__device__ float block_max_f(float v, float* scratch) { return block_reduce(v, scratch, MaxOp()); }

__device__ u64 block_min_u64(u64 v, u64* scratch) { return block_reduce(v, scratch, MinOp()); }
