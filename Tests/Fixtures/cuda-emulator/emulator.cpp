// The parts of the CUDA driver API, NVRTC, cuDNN and cuBLAS that compseg calls, emulated on
// the CPU, so that the backend's own code (allocation, launches, argument packing, synchronization)
// and the kernels of CUDAKernels.swift run in the tests on machines without a GPU.
//
// The kernels are compiled as C++ beside this file (the test prepends emulated built-ins and
// appends a thunk per kernel that unpacks cuLaunchKernel's argument pointers). Each block runs on
// one thread (blockDim 1), blocks one after the other: the kernels are written for any block of
// up to 256 threads, and with one thread per block their shared memory and barriers are
// sequential code. A launch of more than 256 threads per block fails, as __launch_bounds__ makes
// it fail on a GPU.
//
// As on a GPU, launched work runs later: kernels and cuDNN's convolutions are queued (their
// arguments checked and copied at the call) and run, in launch order, when the host synchronizes
// (cuCtxSynchronize, cuMemFree, a copy, cuDNN's timing). A host access that compseg does not wait
// for reads values not yet written, or writes under a kernel that has not yet read: the tests see it.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

struct compseg_dim3 { unsigned x, y, z; };
thread_local compseg_dim3 blockIdx, threadIdx, blockDim, gridDim;

struct EmulatedKernel { const char *name; void (*thunk)(void **); int parameters; };
extern "C" const EmulatedKernel compseg_emulated_kernels[];
extern "C" const int compseg_emulated_kernel_count;

typedef unsigned long long Address;
static int context = 1, module = 2;
static int launches = 0;

// Work launched and not yet run, in launch order.
static std::mutex queueLock;
static std::vector<std::function<void()>> queued;
static void enqueue(std::function<void()> work) {
    std::lock_guard<std::mutex> guard(queueLock);
    queued.push_back(std::move(work));
}
// Runs everything launched so far (what waiting for the GPU means).
static void drain() {
    std::lock_guard<std::mutex> guard(queueLock);
    for (auto &work : queued) work();
    queued.clear();
}

extern "C" {
int cuInit(unsigned) { return 0; }
int cuDriverGetVersion(int *v) { *v = 13000; return 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *d, int) { *d = 0; return 0; }
int cuDeviceGetName(char *name, int length, int) { std::strncpy(name, "emulated GPU", length); return 0; }
int cuDeviceTotalMem_v2(size_t *bytes, int) { *bytes = size_t(1) << 30; return 0; }
// Compute capability 9.0 (75, 76); managed memory (83) with concurrent access (89).
int cuDeviceGetAttribute(int *value, int attribute, int) {
    *value = attribute == 75 ? 9 : attribute == 83 || attribute == 89 ? 1 : 0;
    return 0;
}
// What compseg holds: retained contexts, loaded modules, allocations, cuDNN handles and descriptors.
static int held[5] = {0, 0, 0, 0, 0};
extern "C" int compseg_emulated_held(int kind) { return kind >= 0 && kind < 5 ? held[kind] : -1; }
int cuDevicePrimaryCtxRetain(void **c, int) { *c = &context; held[0]++; return 0; }
int cuDevicePrimaryCtxRelease_v2(int) { held[0]--; return 0; }
int cuCtxSetCurrent(void *) { return 0; }
int cuCtxGetCurrent(void **c) { *c = &context; return 0; }
int cuCtxSynchronize() { drain(); return 0; }
int cuModuleLoadData(void **m, const void *) { *m = &module; held[1]++; return 0; }
int cuModuleUnload(void *) { drain(); held[1]--; return 0; }
int cuModuleGetFunction(void **f, void *, const char *name) {
    for (int k = 0; k < compseg_emulated_kernel_count; k++)
        if (std::strcmp(compseg_emulated_kernels[k].name, name) == 0) {
            *f = (void *)&compseg_emulated_kernels[k];
            return 0;
        }
    return 500;  // CUDA_ERROR_NOT_FOUND
}
int cuMemAlloc_v2(Address *p, size_t bytes) { *p = (Address)std::aligned_alloc(64, (bytes + 63) / 64 * 64); held[2]++; return 0; }
// The next `refusedAllocations` allocations fail as out of memory (CUDA_ERROR_OUT_OF_MEMORY, 2).
static int refusedAllocations = 0, frees = 0;
void compseg_emulated_refuse_allocations(int n) { refusedAllocations = n; }
int compseg_emulated_frees() { return frees; }
int cuMemAllocManaged(Address *p, size_t bytes, unsigned flags) {
    if (flags != 1) return 1;  // compseg asks for CU_MEM_ATTACH_GLOBAL
    if (refusedAllocations > 0) { refusedAllocations--; return 2; }
    return cuMemAlloc_v2(p, bytes);
}
// Freeing and copying wait for the GPU, as the driver's do.
int cuMemFree_v2(Address p) { drain(); std::free((void *)p); frees++; held[2]--; return 0; }
int cuMemcpyHtoD_v2(Address d, const void *h, size_t bytes) { drain(); std::memcpy((void *)d, h, bytes); return 0; }
int cuMemcpyDtoH_v2(void *h, Address d, size_t bytes) { drain(); std::memcpy(h, (void *)d, bytes); return 0; }
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void *stream, void **params, void **extra) {
    if (bx * by * bz > 256 || gz != 1 || by != 1 || bz != 1 || extra) return 1;  // CUDA_ERROR_INVALID_VALUE
    const EmulatedKernel *kernel = (const EmulatedKernel *)f;
    // The arguments' values, copied now as the driver copies them (compseg packs each in 8 bytes).
    std::vector<uint64_t> values(kernel->parameters);
    for (int k = 0; k < kernel->parameters; k++) std::memcpy(&values[k], params[k], 8);
    enqueue([kernel, gx, gy, values]() mutable {
        std::vector<void *> pointers(values.size());
        for (size_t k = 0; k < values.size(); k++) pointers[k] = &values[k];
        gridDim = {gx, gy, 1};
        blockDim = {1, 1, 1};
        threadIdx = {0, 0, 0};
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = {x, y, 0};
                kernel->thunk(pointers.data());
            }
    });
    launches++;
    return 0;
}
int cuGetErrorString(int, const char **text) { *text = "emulated CUDA error"; return 0; }
// Events: a record is queued work that notes the time it runs at, as a GPU notes when it gets there.
struct EmulatedEvent { std::chrono::steady_clock::time_point at; bool recorded = false; };
int cuEventCreate(void **e, unsigned flags) { *e = new EmulatedEvent(); return flags == 0 ? 0 : 1; }
int cuEventDestroy_v2(void *e) { drain(); delete (EmulatedEvent *)e; return 0; }
int cuEventRecord(void *e, void *stream) {
    if (stream) return 1;  // compseg uses the default stream only
    EmulatedEvent *event = (EmulatedEvent *)e;
    event->recorded = false;
    enqueue([event]() { event->at = std::chrono::steady_clock::now(); event->recorded = true; });
    return 0;
}
int cuEventSynchronize(void *) { drain(); return 0; }
int cuEventElapsedTime_v2(float *ms, void *start, void *end) {
    EmulatedEvent *a = (EmulatedEvent *)start, *b = (EmulatedEvent *)end;
    if (!a->recorded || !b->recorded) return 600;  // CUDA_ERROR_NOT_READY
    *ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
    return 0;
}
// cuBLAS: only its version is asked (libraryPropertyType: 0 major, 1 minor).
int cublasGetProperty(int type, int *value) { *value = type == 0 ? 13 : 0; return 0; }
// Kernels launched so far (the tests check that the GPU path ran).
int compseg_emulated_launches() { return launches; }

// NVRTC: the kernels are compiled already; the "cubin" is a marker.
int nvrtcVersion(int *major, int *minor) { *major = 13; *minor = 0; return 0; }
int nvrtcCreateProgram(void **program, const char *, const char *, int, const char *const *, const char *const *) {
    *program = &module;
    return 0;
}
int nvrtcCompileProgram(void *, int, const char *const *) { return 0; }
int nvrtcGetCUBINSize(void *, size_t *size) { *size = 4; return 0; }
int nvrtcGetCUBIN(void *, char *cubin) { std::memcpy(cubin, "EMU", 4); return 0; }
int nvrtcDestroyProgram(void **) { return 0; }
const char *nvrtcGetErrorString(int) { return "emulated NVRTC error"; }
int nvrtcGetProgramLogSize(void *, size_t *size) { *size = 1; return 0; }
int nvrtcGetProgramLog(void *, char *log) { log[0] = 0; return 0; }
}

// cuDNN: tensors NCHW float or NHWC bf16, filters K×C×kH×kW float or K×kH×kW×C bf16,
// cross-correlation summed in float, computed by plain loops; the calls check what compseg must pass
// (formats, types, modes, consistent shapes, a workspace when asked).
struct TensorDesc { int n, c, h, w, format, type; };
struct FilterDesc { int k, c, h, w, format, type; };
struct ConvDesc { int ph, pw, sh, sw, math; };
static const int floatType = 0, bf16Type = 9, nchw = 0, nhwc = 1;
// The two pairs compseg uses: float in NCHW, bf16 in NHWC.
static bool known(int format, int type) { return (format == nchw && type == floatType) || (format == nhwc && type == bf16Type); }
static const int badParam = 3;  // CUDNN_STATUS_BAD_PARAM
static const size_t workspaceBytes = 256;

extern "C" {
size_t cudnnGetVersion() { return 92600; }
int cudnnCreate(void **handle) { *handle = &context; held[3]++; return 0; }
int cudnnDestroy(void *) { drain(); held[3]--; return 0; }
int cudnnSetStream(void *, void *stream) { return stream ? badParam : 0; }
const char *cudnnGetErrorString(int) { return "emulated cuDNN error"; }
int cudnnCreateTensorDescriptor(void **d) { *d = new TensorDesc(); held[4]++; return 0; }
int cudnnDestroyTensorDescriptor(void *d) { delete (TensorDesc *)d; held[4]--; return 0; }
int cudnnSetTensor4dDescriptor(void *d, int format, int type, int n, int c, int h, int w) {
    if (!known(format, type) || n <= 0 || c <= 0 || h <= 0 || w <= 0) return badParam;
    *(TensorDesc *)d = {n, c, h, w, format, type};
    return 0;
}
int cudnnCreateFilterDescriptor(void **d) { *d = new FilterDesc(); held[4]++; return 0; }
int cudnnDestroyFilterDescriptor(void *d) { delete (FilterDesc *)d; held[4]--; return 0; }
int cudnnSetFilter4dDescriptor(void *d, int type, int format, int k, int c, int h, int w) {
    if (!known(format, type)) return badParam;
    *(FilterDesc *)d = {k, c, h, w, format, type};
    return 0;
}
int cudnnCreateConvolutionDescriptor(void **d) { *d = new ConvDesc(); held[4]++; return 0; }
int cudnnDestroyConvolutionDescriptor(void *d) { delete (ConvDesc *)d; held[4]--; return 0; }
int cudnnSetConvolution2dDescriptor(void *d, int ph, int pw, int sh, int sw, int dh, int dw, int mode, int type) {
    if (dh != 1 || dw != 1 || mode != 1 || type != floatType) return badParam;  // cross-correlation summed in float
    *(ConvDesc *)d = {ph, pw, sh, sw, 0};
    return 0;
}
int cudnnSetConvolutionMathType(void *d, int math) {
    if (math != 1 && math != 3) return badParam;  // tensor cores, or fp32 FMAs only
    ((ConvDesc *)d)->math = math;
    return 0;
}

// Whether x * w gives y under the convolution's geometry, all of one type (bf16 with tensor-core math).
static bool consistent(const TensorDesc *x, const FilterDesc *w, const ConvDesc *c, const TensorDesc *y) {
    return x->n == y->n && x->c == w->c && y->c == w->k && y->h == (x->h + 2 * c->ph - w->h) / c->sh + 1
        && y->w == (x->w + 2 * c->pw - w->w) / c->sw + 1 && x->type == w->type && y->type == w->type
        && x->format == w->format && y->format == w->format && (w->type != bf16Type || c->math == 1);
}

// Filters of this many outputs get no algorithm (0: every filter gets them), as cuDNN may answer
// for a shape its kernels do not cover: compseg must run that convolution elsewhere.
// With `whenRun`, they are offered but every one answers CUDNN_STATUS_NOT_SUPPORTED when run.
static int refusedOutputs = 0, unsupportedOutputs = 0;
static const int notSupported = 3000;
extern "C" void compseg_emulated_refuse_outputs(int k, int whenRun) {
    refusedOutputs = whenRun ? 0 : k;
    unsupportedOutputs = whenRun ? k : 0;
}

// Five algorithms in this order: an FFT-based one and a non-deterministic one (which compseg must
// pass over), one that fails when run (compseg must try the next), and algorithms 3 and 1, which
// run (timing puts 1 first: the heuristics' pick is not the fastest).
static int algorithms(const FilterDesc *w, int fft, int failing, int *count, void *results) {
    if (w->k == refusedOutputs) {
        *count = 0;
        return 0;
    }
    char *r = (char *)results;
    std::memset(r, 0, 5 * 48);
    int entries[5][2] = {{fft, 1}, {0, 0}, {failing, 1}, {3, 1}, {1, 1}};  // algorithm, determinism
    for (int k = 0; k < 5; k++) {
        std::memcpy(r + 48 * k, &entries[k][0], 4);
        std::memcpy(r + 48 * k + 24, &entries[k][1], 4);
    }
    *count = 5;
    return 0;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void *, TensorDesc *x, FilterDesc *w, ConvDesc *c, TensorDesc *y, int,
                                           int *count, void *results) {
    return consistent(x, w, c, y) ? algorithms(w, 4, 2, count, results) : badParam;
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *, FilterDesc *w, TensorDesc *dy, ConvDesc *c, TensorDesc *dx, int,
                                                int *count, void *results) {
    return consistent(dx, w, c, dy) ? algorithms(w, 2, 5, count, results) : badParam;
}
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *, TensorDesc *x, TensorDesc *dy, ConvDesc *c, FilterDesc *dw,
                                                  int, int *count, void *results) {
    return consistent(x, dw, c, dy) ? algorithms(dw, 2, 5, count, results) : badParam;
}
// Every algorithm offered has a workspace; only algorithm 1 runs (`usable`).
static int sized(int, size_t *bytes) { *bytes = workspaceBytes; return 0; }
int cudnnGetConvolutionForwardWorkspaceSize(void *, void *, void *, void *, void *, int a, size_t *b) { return sized(a, b); }
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *, void *, void *, void *, void *, int a, size_t *b) { return sized(a, b); }
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *, void *, void *, void *, void *, int a, size_t *b) { return sized(a, b); }

}  // extern "C": templates and overloads below

// Calls f(n, k, c, oh, ow, i, j, ih, iw) for every term of x * w that lies inside x.
template <class F> static void terms(const TensorDesc *x, const FilterDesc *w, const ConvDesc *cv, const TensorDesc *y, F f) {
    for (int n = 0; n < y->n; n++)
        for (int k = 0; k < y->c; k++)
            for (int oh = 0; oh < y->h; oh++)
                for (int ow = 0; ow < y->w; ow++)
                    for (int c = 0; c < x->c; c++)
                        for (int i = 0; i < w->h; i++)
                            for (int j = 0; j < w->w; j++) {
                                int ih = oh * cv->sh - cv->ph + i, iw = ow * cv->sw - cv->pw + j;
                                if (ih >= 0 && ih < x->h && iw >= 0 && iw < x->w) f(n, k, c, oh, ow, i, j, ih, iw);
                            }
}
static long at(const TensorDesc *t, int n, int c, int h, int w) {
    return t->format == nhwc ? ((long)(n * t->h + h) * t->w + w) * t->c + c : ((long)(n * t->c + c) * t->h + h) * t->w + w;
}
static long at(const FilterDesc *t, int k, int c, int h, int w) {
    return t->format == nhwc ? ((long)(k * t->h + h) * t->w + w) * t->c + c : ((long)(k * t->c + c) * t->h + h) * t->w + w;
}
static float load(int type, const void *p, long i) {
    if (type == floatType) return ((const float *)p)[i];
    uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
    float x;
    std::memcpy(&x, &u, 4);
    return x;
}
// Sums are kept in float (`acc`) and written in the output's type, bf16 rounded to nearest even.
static void store(int type, void *p, const std::vector<float> &acc) {
    for (size_t i = 0; i < acc.size(); i++) {
        if (type == floatType) { ((float *)p)[i] = acc[i]; continue; }
        uint32_t u;
        std::memcpy(&u, &acc[i], 4);
        ((uint16_t *)p)[i] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40u)
                                                               : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
}
static int forbiddenRuns = 0, failedRuns = 0, timings = 0, failingTimings = 0;
extern "C" void compseg_emulated_fail_timings(int n) { failingTimings = n; }
// Whether the call may compute: algorithm 1 or 3 with its workspace. Running an FFT-based (`fft`)
// or a non-deterministic (0) algorithm is counted: compseg must never ask for one; so is trying
// the one that fails (which compseg then passes over).
static bool usable(int algorithm, int fft, void *workspace, size_t bytes) {
    if (algorithm == fft || algorithm == 0) forbiddenRuns++;
    else if (algorithm != 1 && algorithm != 3) failedRuns++;
    return (algorithm == 1 || algorithm == 3) && workspace != nullptr && bytes >= workspaceBytes;
}

// cuDNN's timing of every algorithm (cudnnFind…Ex): the same five, fastest first: the FFT-based
// one, the non-deterministic one, algorithms 1 and 3, and the failing one (status 8, execution
// failed). The next `failingTimings` fail as out of memory (CUDNN_STATUS_ALLOC_FAILED, 2).
static int timed(int fft, int failing, int *count, void *results) {
    if (failingTimings > 0) { failingTimings--; return 2; }
    char *r = (char *)results;
    std::memset(r, 0, 5 * 48);
    int entries[5][3] = {{fft, 0, 1}, {0, 0, 0}, {1, 0, 1}, {3, 0, 1}, {failing, 8, 1}};  // algorithm, status, determinism
    for (int k = 0; k < 5; k++) {
        float time = 0.1f * (k + 1);
        std::memcpy(r + 48 * k, &entries[k][0], 4);
        std::memcpy(r + 48 * k + 4, &entries[k][1], 4);
        std::memcpy(r + 48 * k + 8, &time, 4);
        std::memcpy(r + 48 * k + 24, &entries[k][2], 4);
    }
    *count = 5;
    timings++;
    return 0;
}

extern "C" {

int cudnnConvolutionForward(void *, const float *alpha, TensorDesc *xd, const void *x, FilterDesc *wd, const void *w,
                            ConvDesc *cd, int algorithm, void *workspace, size_t bytes, const float *beta, TensorDesc *yd,
                            void *y) {
    if (wd->k == unsupportedOutputs) return notSupported;
    if (!consistent(xd, wd, cd, yd) || !usable(algorithm, 4, workspace, bytes) || *alpha != 1 || *beta != 0) return badParam;
    enqueue([xd = *xd, x, wd = *wd, w, cd = *cd, yd = *yd, y]() {
        std::vector<float> acc((size_t)yd.n * yd.c * yd.h * yd.w, 0.0f);
        terms(&xd, &wd, &cd, &yd, [&](int n, int k, int c, int oh, int ow, int i, int j, int ih, int iw) {
            acc[at(&yd, n, k, oh, ow)] += load(wd.type, w, at(&wd, k, c, i, j)) * load(xd.type, x, at(&xd, n, c, ih, iw));
        });
        store(yd.type, y, acc);
    });
    return 0;
}
int cudnnConvolutionBackwardData(void *, const float *alpha, FilterDesc *wd, const void *w, TensorDesc *dyd,
                                 const void *dy, ConvDesc *cd, int algorithm, void *workspace, size_t bytes,
                                 const float *beta, TensorDesc *dxd, void *dx) {
    if (wd->k == unsupportedOutputs) return notSupported;
    if (!consistent(dxd, wd, cd, dyd) || !usable(algorithm, 2, workspace, bytes) || *alpha != 1 || *beta != 0) return badParam;
    enqueue([wd = *wd, w, dyd = *dyd, dy, cd = *cd, dxd = *dxd, dx]() {
        std::vector<float> acc((size_t)dxd.n * dxd.c * dxd.h * dxd.w, 0.0f);
        terms(&dxd, &wd, &cd, &dyd, [&](int n, int k, int c, int oh, int ow, int i, int j, int ih, int iw) {
            acc[at(&dxd, n, c, ih, iw)] += load(wd.type, w, at(&wd, k, c, i, j)) * load(dyd.type, dy, at(&dyd, n, k, oh, ow));
        });
        store(dxd.type, dx, acc);
    });
    return 0;
}
int cudnnConvolutionBackwardFilter(void *, const float *alpha, TensorDesc *xd, const void *x, TensorDesc *dyd,
                                   const void *dy, ConvDesc *cd, int algorithm, void *workspace, size_t bytes,
                                   const float *beta, FilterDesc *dwd, void *dw) {
    if (dwd->k == unsupportedOutputs) return notSupported;
    if (!consistent(xd, dwd, cd, dyd) || !usable(algorithm, 2, workspace, bytes) || *alpha != 1 || *beta != 0) return badParam;
    enqueue([xd = *xd, x, dyd = *dyd, dy, cd = *cd, dwd = *dwd, dw]() {
        std::vector<float> acc((size_t)dwd.k * dwd.c * dwd.h * dwd.w, 0.0f);
        terms(&xd, &dwd, &cd, &dyd, [&](int n, int k, int c, int oh, int ow, int i, int j, int ih, int iw) {
            acc[at(&dwd, k, c, i, j)] += load(xd.type, x, at(&xd, n, c, ih, iw)) * load(dyd.type, dy, at(&dyd, n, k, oh, ow));
        });
        store(dwd.type, dw, acc);
    });
    return 0;
}
int cudnnFindConvolutionForwardAlgorithmEx(void *, TensorDesc *xd, const void *, FilterDesc *wd, const void *, ConvDesc *cd,
                                           TensorDesc *yd, void *, int, int *count, void *results, void *, size_t) {
    drain();  // cuDNN's timing runs the algorithms now
    return consistent(xd, wd, cd, yd) ? timed(4, 2, count, results) : badParam;
}
int cudnnFindConvolutionBackwardDataAlgorithmEx(void *, FilterDesc *wd, const void *, TensorDesc *dyd, const void *,
                                                ConvDesc *cd, TensorDesc *dxd, void *, int, int *count, void *results,
                                                void *, size_t) {
    drain();
    return consistent(dxd, wd, cd, dyd) ? timed(2, 5, count, results) : badParam;
}
int cudnnFindConvolutionBackwardFilterAlgorithmEx(void *, TensorDesc *xd, const void *, TensorDesc *dyd, const void *,
                                                  ConvDesc *cd, FilterDesc *dwd, void *, int, int *count, void *results,
                                                  void *, size_t) {
    drain();
    return consistent(xd, dwd, cd, dyd) ? timed(2, 5, count, results) : badParam;
}
}

extern "C" int compseg_emulated_forbidden_runs() { return forbiddenRuns; }
extern "C" int compseg_emulated_failed_runs() { return failedRuns; }
extern "C" int compseg_emulated_timings() { return timings; }
