// The CPU emulator of the CUDA kernels, for tests on machines without a GPU.
//
// A kernel source (prelude + .cu) compiles as C++ after this header: CUDA's qualifiers become
// nothing (or "static" for __shared__, which makes one copy shared by all threads of a block, since
// blocks run one after another), and the threads of a block are fibers (ucontext) on the calling
// thread: each runs until it reaches __syncthreads or returns, then the next one runs, so a round
// over the live fibers is one barrier interval. Switching fibers costs far less than waking platform
// threads, which is what lets whole models run through the kernels in a unit test.
//
// EmulatedGpu calls bllm_launch_<kernel>(grid, threads, shared memory, argument pointers) for each
// launch; the launchers are appended to the source (BLLM_LAUNCHER) when it is built. One launch runs
// at a time in the process (the Java side holds a lock): the block state below is per thread, but
// __shared__ arrays are static.
#define BATCHLLM_EMULATOR 1

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ucontext.h>
#include <utility>

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
static thread_local dim3 blockDim;
static thread_local dim3 gridDim;
static thread_local void* bllm_emu_shared;

using std::max;
using std::min;

// --- fibers: one per thread of the running block
static const size_t BLLM_STACK_BYTES = 64 * 1024;
static thread_local ucontext_t bllm_scheduler;
static thread_local ucontext_t* bllm_fibers;
static thread_local bool* bllm_done;
static thread_local char* bllm_stacks;
static thread_local unsigned int bllm_capacity;
static thread_local unsigned int bllm_current;
static thread_local int bllm_error;
static thread_local void (*bllm_body)(void**);
static thread_local void** bllm_args;

static inline void __syncthreads() {
    swapcontext(&bllm_fibers[bllm_current], &bllm_scheduler);
}

/** A kernel's assertion failed: the launch reports an error; this thread of the block never resumes. */
static inline void __trap() {
    bllm_error = 1;
    bllm_done[bllm_current] = true;
    setcontext(&bllm_scheduler);
}

static void bllm_fiber_entry() {
    bllm_body(bllm_args);
    bllm_done[bllm_current] = true;
    // returning switches to uc_link, the scheduler
}

static void bllm_reserve(unsigned int threads) {
    if (threads <= bllm_capacity) {
        return;
    }
    free(bllm_fibers);
    free(bllm_done);
    free(bllm_stacks);
    bllm_fibers = (ucontext_t*) calloc(threads, sizeof(ucontext_t));
    bllm_done = (bool*) calloc(threads, sizeof(bool));
    bllm_stacks = (char*) malloc((size_t) threads * BLLM_STACK_BYTES);
    bllm_capacity = threads;
}

/** Runs the block at blockIdx: every fiber from the kernel's start, round by round, until all returned. */
static void bllm_run_block(unsigned int threads) {
    for (unsigned int t = 0; t < threads; t++) {
        getcontext(&bllm_fibers[t]);
        bllm_fibers[t].uc_stack.ss_sp = bllm_stacks + (size_t) t * BLLM_STACK_BYTES;
        bllm_fibers[t].uc_stack.ss_size = BLLM_STACK_BYTES;
        bllm_fibers[t].uc_link = &bllm_scheduler;
        makecontext(&bllm_fibers[t], bllm_fiber_entry, 0);
        bllm_done[t] = false;
    }
    bool alive = true;
    while (alive && !bllm_error) {
        alive = false;
        for (unsigned int t = 0; t < threads && !bllm_error; t++) {
            if (!bllm_done[t]) {
                bllm_current = t;
                threadIdx = {t, 0, 0};
                swapcontext(&bllm_scheduler, &bllm_fibers[t]);
                alive = alive || !bllm_done[t];
            }
        }
    }
}

/** One launch: every block of the grid in order. Returns 0, or 1 if a thread trapped. */
static int bllm_emu_launch(void (*body)(void**), unsigned int gx, unsigned int gy, unsigned int gz,
                           unsigned int threads, void* shared, void** args) {
    bllm_reserve(threads);
    gridDim = {gx, gy, gz};
    blockDim = {threads, 1, 1};
    bllm_emu_shared = shared;
    bllm_body = body;
    bllm_args = args;
    bllm_error = 0;
    for (unsigned int z = 0; z < gz && !bllm_error; z++) {
        for (unsigned int y = 0; y < gy && !bllm_error; y++) {
            for (unsigned int x = 0; x < gx && !bllm_error; x++) {
                blockIdx = {x, y, z};
                bllm_run_block(threads);
            }
        }
    }
    return bllm_error;
}

/** Calls kernel k with its arguments read from args[i], each pointing at a value of the parameter's type. */
template <typename... A, std::size_t... I>
static void bllm_call(void (*k)(A...), void** args, std::index_sequence<I...>) {
    k(*(A*) args[I]...);
}

template <typename... A>
static void bllm_call(void (*k)(A...), void** args) {
    bllm_call(k, args, std::index_sequence_for<A...>{});
}

#define BLLM_LAUNCHER(NAME)                                                                                   \
    static void bllm_body_##NAME(void** args) { bllm_call(NAME, args); }                                      \
    extern "C" int bllm_launch_##NAME(unsigned int gx, unsigned int gy, unsigned int gz, unsigned int threads, \
                                      void* shared, void** args) {                                            \
        return bllm_emu_launch(bllm_body_##NAME, gx, gy, gz, threads, shared, args);                          \
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

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
