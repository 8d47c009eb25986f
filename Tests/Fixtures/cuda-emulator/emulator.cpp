// The parts of the CUDA driver API and NVRTC that compseg's CUDA backend calls, emulated on the
// CPU, so that the backend's own code (allocation, launches, argument packing, synchronization)
// and the kernels of CUDAKernels.swift run in the tests on machines without a GPU.
//
// The kernels are compiled as C++ beside this file (the test prepends emulated built-ins and
// appends a thunk per kernel that unpacks cuLaunchKernel's argument pointers). Each block runs on
// one thread (blockDim 1), blocks one after the other: the kernels are written for any block of
// up to 256 threads, and with one thread per block their shared memory and barriers are
// sequential code. A launch of more than 256 threads per block fails, as __launch_bounds__ makes
// it fail on a GPU.
#include <cstdint>
#include <cstdlib>
#include <cstring>

struct compseg_dim3 { unsigned x, y, z; };
thread_local compseg_dim3 blockIdx, threadIdx, blockDim, gridDim;

struct EmulatedKernel { const char *name; void (*thunk)(void **); };
extern "C" const EmulatedKernel compseg_emulated_kernels[];
extern "C" const int compseg_emulated_kernel_count;

typedef unsigned long long Address;
static int context = 1, module = 2;
static int launches = 0;

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
int cuDevicePrimaryCtxRetain(void **c, int) { *c = &context; return 0; }
int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void *) { return 0; }
int cuCtxGetCurrent(void **c) { *c = &context; return 0; }
int cuCtxSynchronize() { return 0; }
int cuModuleLoadData(void **m, const void *) { *m = &module; return 0; }
int cuModuleUnload(void *) { return 0; }
int cuModuleGetFunction(void **f, void *, const char *name) {
    for (int k = 0; k < compseg_emulated_kernel_count; k++)
        if (std::strcmp(compseg_emulated_kernels[k].name, name) == 0) {
            *f = (void *)&compseg_emulated_kernels[k];
            return 0;
        }
    return 500;  // CUDA_ERROR_NOT_FOUND
}
int cuMemAlloc_v2(Address *p, size_t bytes) { *p = (Address)std::aligned_alloc(64, (bytes + 63) / 64 * 64); return 0; }
int cuMemAllocManaged(Address *p, size_t bytes, unsigned flags) {
    if (flags != 1) return 1;  // compseg asks for CU_MEM_ATTACH_GLOBAL
    return cuMemAlloc_v2(p, bytes);
}
int cuMemFree_v2(Address p) { std::free((void *)p); return 0; }
int cuMemsetD32Async(Address p, unsigned value, size_t count, void *) {
    for (size_t i = 0; i < count; i++) std::memcpy((char *)p + 4 * i, &value, 4);
    return 0;
}
int cuMemcpyHtoD_v2(Address d, const void *h, size_t bytes) { std::memcpy((void *)d, h, bytes); return 0; }
int cuMemcpyDtoH_v2(void *h, Address d, size_t bytes) { std::memcpy(h, (void *)d, bytes); return 0; }
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void *stream, void **params, void **extra) {
    if (bx * by * bz > 256 || gz != 1 || by != 1 || bz != 1 || extra) return 1;  // CUDA_ERROR_INVALID_VALUE
    const EmulatedKernel *kernel = (const EmulatedKernel *)f;
    gridDim = {gx, gy, 1};
    blockDim = {1, 1, 1};
    threadIdx = {0, 0, 0};
    for (unsigned y = 0; y < gy; y++)
        for (unsigned x = 0; x < gx; x++) {
            blockIdx = {x, y, 0};
            kernel->thunk(params);
        }
    launches++;
    return 0;
}
int cuGetErrorString(int, const char **text) { *text = "emulated CUDA error"; return 0; }
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
