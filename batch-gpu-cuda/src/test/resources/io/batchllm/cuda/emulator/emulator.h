// The CPU emulator of the CUDA kernels, for tests on machines without a GPU.
//
// A kernel source (prelude + .cu) compiles as C++ after this header: CUDA's qualifiers become
// nothing (or "static" for __shared__, which makes one copy shared by all threads of a block, since
// blocks run one after another), threadIdx/blockIdx are thread-local, and __syncthreads is a barrier
// of the block's threads. The Java side (EmulatedGpu) runs each block with blockDim.x platform
// threads: each calls bllm_emu_thread, then the kernel symbol itself, through the FFM API.
#define BATCHLLM_EMULATOR 1

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <pthread.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define BLLM_DYNAMIC_SHARED(T, name) T* name = (T*) bllm_emu_shared

struct dim3 {
    unsigned int x, y, z;
};

static thread_local dim3 threadIdx;
static thread_local dim3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static void* bllm_emu_shared;
static pthread_barrier_t bllm_emu_barrier;

using std::max;
using std::min;

static inline void __syncthreads() {
    pthread_barrier_wait(&bllm_emu_barrier);
}

static inline float __uint_as_float(unsigned int u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

static inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}

static inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, 4);
    return u;
}

static inline int __float_as_int(float f) {
    int i;
    std::memcpy(&i, &f, 4);
    return i;
}

static inline void __trap() { std::abort(); }

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }

extern "C" void bllm_emu_block(unsigned int gx, unsigned int gy, unsigned int gz, unsigned int threads, void* shared) {
    gridDim = {gx, gy, gz};
    blockDim = {threads, 1, 1};
    bllm_emu_shared = shared;
    pthread_barrier_init(&bllm_emu_barrier, nullptr, threads);
}

extern "C" void bllm_emu_block_done() {
    pthread_barrier_destroy(&bllm_emu_barrier);
}

extern "C" void bllm_emu_thread(unsigned int bx, unsigned int by, unsigned int bz, unsigned int tx) {
    blockIdx = {bx, by, bz};
    threadIdx = {tx, 0, 0};
}
