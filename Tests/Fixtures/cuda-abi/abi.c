/*
 * The CUDA backend's C ABI, checked against NVIDIA's own headers at compile time.
 *
 * Sources/CompSegNN/CUDA resolves the CUDA driver, NVRTC, cuDNN 9 (legacy convolution API) and
 * cuBLAS with dlsym and calls them through hand-written `@convention(c)` function types and
 * hard-coded numbers. This file transcribes each of those Swift types into C and asserts, with
 * C11 _Static_assert only (nothing here runs or links):
 *   (a) every numeric constant the Swift code passes to or reads from the libraries equals the
 *       header's named value (device attributes, attach flags, cuDNN types/formats/modes/math
 *       types/determinism, the algorithms treated as FFT, cuBLAS's property codes, ...);
 *   (b) the layout of cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t that CuDNN.swift reads
 *       by byte offset (stride 48; algo at 0, status at 4, memory at 16, determinism at 24);
 *   (c) every function resolved by name: its Swift type, transcribed (Int32 -> int or the
 *       header's 4-byte enum, UInt32 -> unsigned int, Int -> size_t, UInt64 -> unsigned long long,
 *       OpaquePointer -> the header's handle type, Unsafe[Mutable]RawPointer -> [const] void * or
 *       the header's pointer type), is compatible with the header's declaration
 *       (__builtin_types_compatible_p), so arity, order, pointer-ness and widths all agree. Where
 *       Swift has Int32 for a header enum the view names the enum and its size is asserted to be 4.
 * Names are the exact symbols the Swift code dlsym's (the `_v2` ones included; cuda.h #defines
 * the plain names to them). Each message names the Swift file and the function or constant.
 *
 * Compile (syntax only; nothing is linked or run; a failed assertion is a mismatch), with SP the
 * site-packages of a Python environment holding NVIDIA's wheels (PyTorch's, for one):
 *   clang -std=c11 -fsyntax-only -I$SP/nvidia/cu13/include -I$SP/nvidia/cudnn/include \
 *       -I$SP/triton/backends/nvidia/include Tests/Fixtures/cuda-abi/abi.c
 * The last -I only supplies crt/host_defines.h (macros only), which cuda_runtime_api.h (pulled in by
 * cudnn.h) and driver_types.h need, where the nvidia-cuda-crt wheel is not installed.
 * `CUDALoaderTests.theLibraryCallsMatchNVIDIAsHeaders` finds these folders and runs it.
 */
#if !__has_include(<crt/host_defines.h>)
#error "crt/host_defines.h not found: add -I<site-packages>/triton/backends/nvidia/include (or install nvidia-cuda-crt)"
#endif
#include <stddef.h>
#include <cuda.h>
#include <nvrtc.h>
#include <cudnn.h>
#include <cublas_api.h>
#include <library_types.h>

#define SAME_TYPE(fn, view, msg) _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), view), msg)

/* ---- Widths the transcription relies on (LP64) ---------------------------------------------- */
_Static_assert(sizeof(int) == 4 && sizeof(unsigned int) == 4, "Swift Int32/UInt32 are 4 bytes");
_Static_assert(sizeof(size_t) == 8 && sizeof(long) == 8, "Swift Int (size_t) is 8 bytes");
_Static_assert(sizeof(void *) == 8, "pointers are 8 bytes");
_Static_assert(__builtin_types_compatible_p(CUdeviceptr, unsigned long long), "CUDADriver.swift: CUdeviceptr is Swift UInt64");
_Static_assert(__builtin_types_compatible_p(CUdevice, int), "CUDADriver.swift: CUdevice is Swift Int32");
_Static_assert(sizeof(CUresult) == 4, "CUDADriver.swift: CUresult (enum) returned as Int32");
_Static_assert(sizeof(CUdevice_attribute) == 4, "CUDADriver.swift: CUdevice_attribute (enum) passed as Int32");
_Static_assert(sizeof(nvrtcResult) == 4, "NVRTC.swift: nvrtcResult (enum) as Int32");
_Static_assert(sizeof(cudnnStatus_t) == 4, "CuDNN.swift: cudnnStatus_t (enum) as Int32");
_Static_assert(sizeof(cudnnDataType_t) == 4, "CuDNNDescriptors.swift: cudnnDataType_t (enum) as Int32");
_Static_assert(sizeof(cudnnTensorFormat_t) == 4, "CuDNNDescriptors.swift: cudnnTensorFormat_t (enum) as Int32");
_Static_assert(sizeof(cudnnConvolutionMode_t) == 4, "CuDNNDescriptors.swift: cudnnConvolutionMode_t (enum) as Int32");
_Static_assert(sizeof(cudnnMathType_t) == 4, "CuDNNDescriptors.swift: cudnnMathType_t (enum) as Int32");
_Static_assert(sizeof(cudnnDeterminism_t) == 4, "CuDNN.swift: cudnnDeterminism_t (enum) read as Int32");
_Static_assert(sizeof(cudnnConvolutionFwdAlgo_t) == 4, "CuDNN.swift: cudnnConvolutionFwdAlgo_t (enum) as Int32");
_Static_assert(sizeof(cudnnConvolutionBwdDataAlgo_t) == 4, "CuDNN.swift: cudnnConvolutionBwdDataAlgo_t (enum) as Int32");
_Static_assert(sizeof(cudnnConvolutionBwdFilterAlgo_t) == 4, "CuDNN.swift: cudnnConvolutionBwdFilterAlgo_t (enum) as Int32");
_Static_assert(sizeof(cublasStatus_t) == 4, "CUDAEnvironment.swift: cublasStatus_t (enum) as Int32");
_Static_assert(sizeof(libraryPropertyType) == 4, "CUDAEnvironment.swift: libraryPropertyType (enum) as Int32");

/* ==== (a) constants ========================================================================== */

/* Success codes: every `check` treats 0 as success. */
_Static_assert(CUDA_SUCCESS == 0, "CUDADriver.swift: check treats 0 as CUDA_SUCCESS");
_Static_assert(NVRTC_SUCCESS == 0, "NVRTC.swift / CUDAEnvironment.swift nvrtcVersion: 0 is NVRTC_SUCCESS");
_Static_assert(CUDNN_STATUS_SUCCESS == 0, "CuDNN.swift / CuDNNDescriptors.swift: status 0 is CUDNN_STATUS_SUCCESS (also the AlgoPerf status field)");
/* CuDNN.swift convolve: the statuses that mean "this algorithm does not cover this problem" (the
   convolution then runs on the CPU); other NOT_SUPPORTED kinds (driver, runtime, architecture,
   sub-library) are errors. */
_Static_assert(CUDNN_STATUS_NOT_SUPPORTED == 3000 && CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN == 3001
               && CUDNN_STATUS_NOT_SUPPORTED_SHAPE == 3002 && CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE == 3003
               && CUDNN_STATUS_NOT_SUPPORTED_LAYOUT == 3004 && CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT == 3010
               && CUDNN_STATUS_NOT_SUPPORTED_PADDING == 3011 && CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM == 3012,
               "CuDNN.swift convolve: the NOT_SUPPORTED statuses taken as 'no algorithm for this problem'");
_Static_assert(CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER == 3005 && CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE == 3009,
               "CuDNN.swift convolve: 3005-3009 (setup problems) are not among them");
_Static_assert(CUBLAS_STATUS_SUCCESS == 0, "CUDAEnvironment.swift cublasVersion: 0 is CUBLAS_STATUS_SUCCESS");

/* CUDAEnvironment.swift: cuDeviceGetAttribute(&major, 75) and (&minor, 76). */
_Static_assert(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR == 75, "CUDAEnvironment.swift: attribute 75 is CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR");
_Static_assert(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR == 76, "CUDAEnvironment.swift: attribute 76 is CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR");
/* CUDADevice.swift: (83, "managed memory"), (89, "concurrent managed access"). */
_Static_assert(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY == 83, "CUDADevice.swift: attribute 83 is CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY");
_Static_assert(CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS == 89, "CUDADevice.swift: attribute 89 is CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS");
/* CUDADevice.swift ManagedMemory.take: cuMemAllocManaged(&address, bytes, 1). */
_Static_assert(CUDA_ERROR_OUT_OF_MEMORY == 2, "CUDADriver.swift outOfMemory: 2 is CUDA_ERROR_OUT_OF_MEMORY");
_Static_assert(CU_MEM_ATTACH_GLOBAL == 1, "CUDADevice.swift ManagedMemory.take: cuMemAllocManaged flags 1 is CU_MEM_ATTACH_GLOBAL");
/* CUDAEnvironment.swift: driver version printed as version/1000 . version%1000/10
   (cuDriverGetVersion's encoding 1000*major + 10*minor; CUDA_VERSION uses the same one). */
_Static_assert(CUDA_VERSION >= 12000 && CUDA_VERSION % 10 == 0, "CUDAEnvironment.swift: driver version decoding (1000*major + 10*minor) of CUDA_VERSION");

/* CUDAEnvironment.swift cudnnVersion: major*10000 + minor*100 + patch. */
_Static_assert(CUDNN_VERSION == CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL, "CUDAEnvironment.swift cudnnVersion: cuDNN 9 encodes major*10000 + minor*100 + patch");
_Static_assert(CUDNN_MAJOR == 9, "CUDALibraries.swift: libcudnn.so.9 is cuDNN 9");

/* CUDAEnvironment.swift cublasVersion: cublasGetProperty(0, &major), (1, &minor). */
_Static_assert(MAJOR_VERSION == 0, "CUDAEnvironment.swift cublasVersion: property 0 is MAJOR_VERSION");
_Static_assert(MINOR_VERSION == 1, "CUDAEnvironment.swift cublasVersion: property 1 is MINOR_VERSION");

/* CuDNNDescriptors.swift kind(bf16:): (type, format) = bf16 ? (9, 1) : (0, 0). */
_Static_assert(CUDNN_DATA_FLOAT == 0, "CuDNNDescriptors.swift kind: data type 0 is CUDNN_DATA_FLOAT");
_Static_assert(CUDNN_DATA_BFLOAT16 == 9, "CuDNNDescriptors.swift kind: data type 9 is CUDNN_DATA_BFLOAT16");
_Static_assert(CUDNN_TENSOR_NCHW == 0, "CuDNNDescriptors.swift kind: format 0 is CUDNN_TENSOR_NCHW");
_Static_assert(CUDNN_TENSOR_NHWC == 1, "CuDNNDescriptors.swift kind: format 1 is CUDNN_TENSOR_NHWC");
/* CuDNNDescriptors.swift convolution: cudnnSetConvolution2dDescriptor(..., 1, 1, 1, 0): dilation 1, 1,
   mode 1, compute type 0. */
_Static_assert(CUDNN_CROSS_CORRELATION == 1, "CuDNNDescriptors.swift convolution: mode 1 is CUDNN_CROSS_CORRELATION");
_Static_assert(CUDNN_DATA_FLOAT == 0, "CuDNNDescriptors.swift convolution: compute type 0 is CUDNN_DATA_FLOAT");
/* CuDNNDescriptors.swift init: mathType = fp32 ? 3 : 1. */
_Static_assert(CUDNN_FMA_MATH == 3, "CuDNNDescriptors.swift mathType: 3 is CUDNN_FMA_MATH");
_Static_assert(CUDNN_TENSOR_OP_MATH == 1, "CuDNNDescriptors.swift mathType: 1 is CUDNN_TENSOR_OP_MATH");

/* CuDNN.swift candidates: determinism field == 1. */
_Static_assert(CUDNN_DETERMINISTIC == 1, "CuDNN.swift candidates: determinism 1 is CUDNN_DETERMINISTIC");
/* CuDNN.swift candidates: FFT algorithms excluded, by kind: forward [4, 5], backward data [2, 3],
   backward filter [2, 6]. */
_Static_assert(CUDNN_CONVOLUTION_FWD_ALGO_FFT == 4, "CuDNN.swift candidates: forward FFT is 4");
_Static_assert(CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING == 5, "CuDNN.swift candidates: forward FFT_TILING is 5");
_Static_assert(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT == 2, "CuDNN.swift candidates: backward data FFT is 2");
_Static_assert(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING == 3, "CuDNN.swift candidates: backward data FFT_TILING is 3");
_Static_assert(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT == 2, "CuDNN.swift candidates: backward filter FFT is 2");
_Static_assert(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING == 6, "CuDNN.swift candidates: backward filter FFT_TILING is 6");
/* CuDNN.swift candidates / fastestFirst: capacity 16 results requested: room for every algorithm. */
_Static_assert(CUDNN_CONVOLUTION_FWD_ALGO_COUNT <= 16, "CuDNN.swift capacity 16 holds every forward algorithm");
_Static_assert(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT <= 16, "CuDNN.swift capacity 16 holds every backward data algorithm");
_Static_assert(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT <= 16, "CuDNN.swift capacity 16 holds every backward filter algorithm");

/* ==== (b) cudnnConvolution*AlgoPerf_t as CuDNN.swift reads it ================================= */
/* stride 48 (buffer allocated with alignment 8); algo Int32 at 0; status Int32 at 4; (time float at 8);
   memory size_t at 16; determinism Int32 at 24; (mathType at 28). */
#define ALGO_PERF(T, what)                                                                              \
    _Static_assert(sizeof(T) == 48, "CuDNN.swift candidates/fastestFirst: stride 48 is sizeof " what);   \
    _Static_assert(_Alignof(T) <= 8, "CuDNN.swift: results buffer alignment 8 suffices for " what);      \
    _Static_assert(offsetof(T, algo) == 0 && sizeof(((T *)0)->algo) == 4, "CuDNN.swift: algo Int32 at 0 of " what); \
    _Static_assert(offsetof(T, status) == 4 && sizeof(((T *)0)->status) == 4, "CuDNN.swift: status Int32 at 4 of " what); \
    _Static_assert(offsetof(T, time) == 8 && sizeof(((T *)0)->time) == 4, "CuDNN.swift (comment): time float at 8 of " what); \
    _Static_assert(offsetof(T, memory) == 16 && sizeof(((T *)0)->memory) == 8, "CuDNN.swift (comment): memory size_t at 16 of " what); \
    _Static_assert(offsetof(T, determinism) == 24 && sizeof(((T *)0)->determinism) == 4, "CuDNN.swift: determinism Int32 at 24 of " what); \
    _Static_assert(offsetof(T, mathType) == 28 && sizeof(((T *)0)->mathType) == 4, "CuDNN.swift (comment): mathType at 28 of " what)
ALGO_PERF(cudnnConvolutionFwdAlgoPerf_t, "cudnnConvolutionFwdAlgoPerf_t");
ALGO_PERF(cudnnConvolutionBwdDataAlgoPerf_t, "cudnnConvolutionBwdDataAlgoPerf_t");
ALGO_PERF(cudnnConvolutionBwdFilterAlgoPerf_t, "cudnnConvolutionBwdFilterAlgoPerf_t");

/* ==== (c) functions ========================================================================== */

/* ---- CUDADriver.swift (libcuda.so.1) ---- */
typedef CUresult (*swift_cuInit)(unsigned int);                               /* (UInt32) -> Int32 */
typedef CUresult (*swift_IntOut)(int *);                                      /* IntOut */
typedef CUresult (*swift_cuDeviceGet)(int *, int);
typedef CUresult (*swift_cuDeviceGetName)(char *, int, int);
typedef CUresult (*swift_cuDeviceTotalMem_v2)(size_t *, int);                 /* (UnsafeMutablePointer<Int>, Int32) */
typedef CUresult (*swift_cuDeviceGetAttribute)(int *, CUdevice_attribute, int); /* attribute: Int32 */
typedef CUresult (*swift_cuDevicePrimaryCtxRetain)(CUcontext *, int);
typedef CUresult (*swift_cuDevicePrimaryCtxRelease_v2)(int);
typedef CUresult (*swift_cuCtxSetCurrent)(CUcontext);
typedef CUresult (*swift_cuCtxGetCurrent)(CUcontext *);
typedef CUresult (*swift_cuModuleLoadData)(CUmodule *, const void *);         /* UnsafeRawPointer */
typedef CUresult (*swift_cuModuleUnload)(CUmodule);
typedef CUresult (*swift_cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
typedef CUresult (*swift_cuMemAlloc_v2)(unsigned long long *, size_t);
typedef CUresult (*swift_cuMemAllocManaged)(unsigned long long *, size_t, unsigned int);
typedef CUresult (*swift_cuMemFree_v2)(unsigned long long);
typedef CUresult (*swift_cuMemcpyHtoD_v2)(unsigned long long, const void *, size_t);
typedef CUresult (*swift_cuMemcpyDtoH_v2)(void *, unsigned long long, size_t);
typedef CUresult (*swift_cuLaunchKernel)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int,
                                         unsigned int, unsigned int, unsigned int, CUstream, void **, void **);
typedef CUresult (*swift_cuCtxSynchronize)(void);
typedef CUresult (*swift_cuGetErrorString)(CUresult, const char **);          /* (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) */
typedef CUresult (*swift_cuEventCreate)(CUevent *, unsigned int);              /* Events (UnsafeMutablePointer<Pointer?>, UInt32) */
typedef CUresult (*swift_cuEventRecord)(CUevent, CUstream);
typedef CUresult (*swift_cuEventOne)(CUevent);                                 /* synchronize, destroy: (Pointer?) */
typedef CUresult (*swift_cuEventElapsedTime_v2)(float *, CUevent, CUevent);

SAME_TYPE(cuInit, swift_cuInit, "CUDADriver.swift: cuInit (UInt32) -> Int32");
SAME_TYPE(cuDriverGetVersion, swift_IntOut, "CUDADriver.swift: cuDriverGetVersion IntOut");
SAME_TYPE(cuDeviceGetCount, swift_IntOut, "CUDADriver.swift: cuDeviceGetCount IntOut");
SAME_TYPE(cuDeviceGet, swift_cuDeviceGet, "CUDADriver.swift: cuDeviceGet (UnsafeMutablePointer<Int32>, Int32)");
SAME_TYPE(cuDeviceGetName, swift_cuDeviceGetName, "CUDADriver.swift: cuDeviceGetName (UnsafeMutablePointer<CChar>, Int32, Int32)");
SAME_TYPE(cuDeviceTotalMem_v2, swift_cuDeviceTotalMem_v2, "CUDADriver.swift: cuDeviceTotalMem_v2 (UnsafeMutablePointer<Int>, Int32)");
SAME_TYPE(cuDeviceGetAttribute, swift_cuDeviceGetAttribute, "CUDADriver.swift: cuDeviceGetAttribute (UnsafeMutablePointer<Int32>, Int32, Int32)");
SAME_TYPE(cuDevicePrimaryCtxRetain, swift_cuDevicePrimaryCtxRetain, "CUDADriver.swift: cuDevicePrimaryCtxRetain (UnsafeMutablePointer<Pointer?>, Int32)");
SAME_TYPE(cuDevicePrimaryCtxRelease_v2, swift_cuDevicePrimaryCtxRelease_v2, "CUDADriver.swift: cuDevicePrimaryCtxRelease_v2 (Int32)");
SAME_TYPE(cuCtxSetCurrent, swift_cuCtxSetCurrent, "CUDADriver.swift: cuCtxSetCurrent (Pointer?)");
SAME_TYPE(cuCtxGetCurrent, swift_cuCtxGetCurrent, "CUDADriver.swift: cuCtxGetCurrent (UnsafeMutablePointer<Pointer?>)");
SAME_TYPE(cuModuleLoadData, swift_cuModuleLoadData, "CUDADriver.swift: cuModuleLoadData (UnsafeMutablePointer<Pointer?>, UnsafeRawPointer)");
SAME_TYPE(cuModuleUnload, swift_cuModuleUnload, "CUDADriver.swift: cuModuleUnload (Pointer?)");
SAME_TYPE(cuModuleGetFunction, swift_cuModuleGetFunction, "CUDADriver.swift: cuModuleGetFunction (UnsafeMutablePointer<Pointer?>, Pointer?, UnsafePointer<CChar>)");
SAME_TYPE(cuMemAlloc_v2, swift_cuMemAlloc_v2, "CUDADriver.swift: cuMemAlloc_v2 (UnsafeMutablePointer<UInt64>, Int)");
SAME_TYPE(cuMemAllocManaged, swift_cuMemAllocManaged, "CUDADriver.swift: cuMemAllocManaged (UnsafeMutablePointer<UInt64>, Int, UInt32)");
SAME_TYPE(cuMemFree_v2, swift_cuMemFree_v2, "CUDADriver.swift: cuMemFree_v2 (UInt64)");
SAME_TYPE(cuMemcpyHtoD_v2, swift_cuMemcpyHtoD_v2, "CUDADriver.swift: cuMemcpyHtoD_v2 (UInt64, UnsafeRawPointer, Int)");
SAME_TYPE(cuMemcpyDtoH_v2, swift_cuMemcpyDtoH_v2, "CUDADriver.swift: cuMemcpyDtoH_v2 (UnsafeMutableRawPointer, UInt64, Int)");
SAME_TYPE(cuLaunchKernel, swift_cuLaunchKernel, "CUDADriver.swift: cuLaunchKernel (Pointer?, 7 x UInt32, Pointer?, void**, void**)");
SAME_TYPE(cuCtxSynchronize, swift_cuCtxSynchronize, "CUDADriver.swift: cuCtxSynchronize ()");
SAME_TYPE(cuGetErrorString, swift_cuGetErrorString, "CUDADriver.swift: cuGetErrorString (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>)");
SAME_TYPE(cuEventCreate, swift_cuEventCreate, "CUDADriver.swift: Events.create (UnsafeMutablePointer<Pointer?>, UInt32)");
SAME_TYPE(cuEventRecord, swift_cuEventRecord, "CUDADriver.swift: Events.record (Pointer?, Pointer?)");
SAME_TYPE(cuEventSynchronize, swift_cuEventOne, "CUDADriver.swift: Events.synchronize (Pointer?)");
SAME_TYPE(cuEventDestroy_v2, swift_cuEventOne, "CUDADriver.swift: Events.destroy (Pointer?)");
SAME_TYPE(cuEventElapsedTime_v2, swift_cuEventElapsedTime_v2, "CUDADriver.swift: Events.elapsed (UnsafeMutablePointer<Float>, Pointer?, Pointer?)");
_Static_assert(CU_EVENT_DEFAULT == 0, "GPUProfile.swift: cuEventCreate flags 0 (CU_EVENT_DEFAULT: with timing)");

/* ---- NVRTC.swift and CUDAEnvironment.swift nvrtcVersion (libnvrtc.so.13) ---- */
typedef nvrtcResult (*swift_nvrtcCreateProgram)(nvrtcProgram *, const char *, const char *, int,
                                                const char *const *, const char *const *);
typedef nvrtcResult (*swift_nvrtcCompileProgram)(nvrtcProgram, int, const char *const *);
typedef nvrtcResult (*swift_nvrtcSize)(nvrtcProgram, size_t *);               /* (Program?, UnsafeMutablePointer<Int>) */
typedef nvrtcResult (*swift_nvrtcText)(nvrtcProgram, char *);                 /* (Program?, UnsafeMutablePointer<CChar>) */
typedef nvrtcResult (*swift_nvrtcDestroyProgram)(nvrtcProgram *);
typedef const char *(*swift_nvrtcGetErrorString)(nvrtcResult);                /* (Int32) -> UnsafePointer<CChar>? */
typedef nvrtcResult (*swift_nvrtcVersion)(int *, int *);

SAME_TYPE(nvrtcCreateProgram, swift_nvrtcCreateProgram, "NVRTC.swift: nvrtcCreateProgram (UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32, UnsafePointer<UnsafePointer<CChar>?>?, same)");
SAME_TYPE(nvrtcCompileProgram, swift_nvrtcCompileProgram, "NVRTC.swift: nvrtcCompileProgram (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?)");
SAME_TYPE(nvrtcGetCUBINSize, swift_nvrtcSize, "NVRTC.swift: nvrtcGetCUBINSize (Program?, UnsafeMutablePointer<Int>)");
SAME_TYPE(nvrtcGetCUBIN, swift_nvrtcText, "NVRTC.swift: nvrtcGetCUBIN (Program?, UnsafeMutablePointer<CChar>)");
SAME_TYPE(nvrtcDestroyProgram, swift_nvrtcDestroyProgram, "NVRTC.swift: nvrtcDestroyProgram (UnsafeMutablePointer<Program?>)");
SAME_TYPE(nvrtcGetErrorString, swift_nvrtcGetErrorString, "NVRTC.swift: nvrtcGetErrorString (Int32) -> UnsafePointer<CChar>?");
SAME_TYPE(nvrtcGetProgramLogSize, swift_nvrtcSize, "NVRTC.swift: nvrtcGetProgramLogSize (Program?, UnsafeMutablePointer<Int>)");
SAME_TYPE(nvrtcGetProgramLog, swift_nvrtcText, "NVRTC.swift: nvrtcGetProgramLog (Program?, UnsafeMutablePointer<CChar>)");
SAME_TYPE(nvrtcVersion, swift_nvrtcVersion, "CUDAEnvironment.swift: nvrtcVersion (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>)");

/* ---- CUDAEnvironment.swift: cudnnGetVersion, cublasGetProperty ---- */
typedef size_t (*swift_cudnnGetVersion)(void);                                /* () -> Int */
typedef cublasStatus_t (*swift_cublasGetProperty)(libraryPropertyType, int *); /* (Int32, UnsafeMutablePointer<Int32>) */
SAME_TYPE(cudnnGetVersion, swift_cudnnGetVersion, "CUDAEnvironment.swift: cudnnGetVersion () -> Int");
SAME_TYPE(cublasGetProperty, swift_cublasGetProperty, "CUDAEnvironment.swift: cublasGetProperty (Int32, UnsafeMutablePointer<Int32>)");

/* ---- CuDNNDescriptors.swift (libcudnn.so.9) ---- */
typedef const char *(*swift_cudnnGetErrorString)(cudnnStatus_t);              /* (Int32) -> UnsafePointer<CChar>? */
typedef cudnnStatus_t (*swift_createTensor)(cudnnTensorDescriptor_t *);       /* Create */
typedef cudnnStatus_t (*swift_createFilter)(cudnnFilterDescriptor_t *);
typedef cudnnStatus_t (*swift_createConvolution)(cudnnConvolutionDescriptor_t *);
typedef cudnnStatus_t (*swift_destroyTensor)(cudnnTensorDescriptor_t);        /* Destroy */
typedef cudnnStatus_t (*swift_destroyFilter)(cudnnFilterDescriptor_t);
typedef cudnnStatus_t (*swift_destroyConvolution)(cudnnConvolutionDescriptor_t);
/* setTensor (Descriptor?, Int32 x 6), called (d, format, type, n, c, h, w) */
typedef cudnnStatus_t (*swift_setTensor)(cudnnTensorDescriptor_t, cudnnTensorFormat_t, cudnnDataType_t, int, int, int, int);
/* setFilter (Descriptor?, Int32 x 6), called (d, type, format, k, c, h, w) */
typedef cudnnStatus_t (*swift_setFilter)(cudnnFilterDescriptor_t, cudnnDataType_t, cudnnTensorFormat_t, int, int, int, int);
/* setConvolution (Descriptor?, Int32 x 8), called (d, padH, padW, strideH, strideW, 1, 1, 1, 0) */
typedef cudnnStatus_t (*swift_setConvolution)(cudnnConvolutionDescriptor_t, int, int, int, int, int, int,
                                              cudnnConvolutionMode_t, cudnnDataType_t);
typedef cudnnStatus_t (*swift_setMathType)(cudnnConvolutionDescriptor_t, cudnnMathType_t); /* (Descriptor?, Int32) */

SAME_TYPE(cudnnGetErrorString, swift_cudnnGetErrorString, "CuDNNDescriptors.swift: cudnnGetErrorString (Int32) -> UnsafePointer<CChar>?");
SAME_TYPE(cudnnCreateTensorDescriptor, swift_createTensor, "CuDNNDescriptors.swift: cudnnCreateTensorDescriptor Create");
SAME_TYPE(cudnnCreateFilterDescriptor, swift_createFilter, "CuDNNDescriptors.swift: cudnnCreateFilterDescriptor Create");
SAME_TYPE(cudnnCreateConvolutionDescriptor, swift_createConvolution, "CuDNNDescriptors.swift: cudnnCreateConvolutionDescriptor Create");
SAME_TYPE(cudnnDestroyTensorDescriptor, swift_destroyTensor, "CuDNNDescriptors.swift: cudnnDestroyTensorDescriptor Destroy");
SAME_TYPE(cudnnDestroyFilterDescriptor, swift_destroyFilter, "CuDNNDescriptors.swift: cudnnDestroyFilterDescriptor Destroy");
SAME_TYPE(cudnnDestroyConvolutionDescriptor, swift_destroyConvolution, "CuDNNDescriptors.swift: cudnnDestroyConvolutionDescriptor Destroy");
SAME_TYPE(cudnnSetTensor4dDescriptor, swift_setTensor, "CuDNNDescriptors.swift: cudnnSetTensor4dDescriptor (Descriptor?, format, type, n, c, h, w)");
SAME_TYPE(cudnnSetFilter4dDescriptor, swift_setFilter, "CuDNNDescriptors.swift: cudnnSetFilter4dDescriptor (Descriptor?, type, format, k, c, h, w)");
SAME_TYPE(cudnnSetConvolution2dDescriptor, swift_setConvolution, "CuDNNDescriptors.swift: cudnnSetConvolution2dDescriptor (Descriptor?, Int32 x 8)");
SAME_TYPE(cudnnSetConvolutionMathType, swift_setMathType, "CuDNNDescriptors.swift: cudnnSetConvolutionMathType (Descriptor?, Int32)");

/* ---- CuDNN.swift (libcudnn.so.9) ---- */
typedef cudnnStatus_t (*swift_cudnnCreate)(cudnnHandle_t *);                  /* (UnsafeMutablePointer<Handle?>) */
typedef cudnnStatus_t (*swift_cudnnSetStream)(cudnnHandle_t, cudaStream_t);   /* (Handle?, OpaquePointer?) */
typedef cudnnStatus_t (*swift_cudnnDestroy)(cudnnHandle_t);                   /* (Handle?) */
SAME_TYPE(cudnnCreate, swift_cudnnCreate, "CuDNN.swift: cudnnCreate (UnsafeMutablePointer<Handle?>)");
SAME_TYPE(cudnnDestroy, swift_cudnnDestroy, "CuDNN.swift: cudnnDestroy (Handle?)");
SAME_TYPE(cudnnSetStream, swift_cudnnSetStream, "CuDNN.swift: cudnnSetStream (Handle?, OpaquePointer?)");

/* AlgorithmQuery: (Handle?, D?, D?, D?, D?, Int32, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer) */
typedef cudnnStatus_t (*swift_fwdQuery)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnFilterDescriptor_t,
                                        cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, int, int *,
                                        cudnnConvolutionFwdAlgoPerf_t *);
typedef cudnnStatus_t (*swift_bwdDataQuery)(cudnnHandle_t, cudnnFilterDescriptor_t, cudnnTensorDescriptor_t,
                                            cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, int, int *,
                                            cudnnConvolutionBwdDataAlgoPerf_t *);
typedef cudnnStatus_t (*swift_bwdFilterQuery)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,
                                              cudnnConvolutionDescriptor_t, cudnnFilterDescriptor_t, int, int *,
                                              cudnnConvolutionBwdFilterAlgoPerf_t *);
SAME_TYPE(cudnnGetConvolutionForwardAlgorithm_v7, swift_fwdQuery, "CuDNN.swift: cudnnGetConvolutionForwardAlgorithm_v7 AlgorithmQuery");
SAME_TYPE(cudnnGetConvolutionBackwardDataAlgorithm_v7, swift_bwdDataQuery, "CuDNN.swift: cudnnGetConvolutionBackwardDataAlgorithm_v7 AlgorithmQuery");
SAME_TYPE(cudnnGetConvolutionBackwardFilterAlgorithm_v7, swift_bwdFilterQuery, "CuDNN.swift: cudnnGetConvolutionBackwardFilterAlgorithm_v7 AlgorithmQuery");

/* WorkspaceQuery: (Handle?, D?, D?, D?, D?, Int32, UnsafeMutablePointer<Int>) */
typedef cudnnStatus_t (*swift_fwdWorkspace)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnFilterDescriptor_t,
                                            cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t,
                                            cudnnConvolutionFwdAlgo_t, size_t *);
typedef cudnnStatus_t (*swift_bwdDataWorkspace)(cudnnHandle_t, cudnnFilterDescriptor_t, cudnnTensorDescriptor_t,
                                                cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t,
                                                cudnnConvolutionBwdDataAlgo_t, size_t *);
typedef cudnnStatus_t (*swift_bwdFilterWorkspace)(cudnnHandle_t, cudnnTensorDescriptor_t, cudnnTensorDescriptor_t,
                                                  cudnnConvolutionDescriptor_t, cudnnFilterDescriptor_t,
                                                  cudnnConvolutionBwdFilterAlgo_t, size_t *);
SAME_TYPE(cudnnGetConvolutionForwardWorkspaceSize, swift_fwdWorkspace, "CuDNN.swift: cudnnGetConvolutionForwardWorkspaceSize WorkspaceQuery");
SAME_TYPE(cudnnGetConvolutionBackwardDataWorkspaceSize, swift_bwdDataWorkspace, "CuDNN.swift: cudnnGetConvolutionBackwardDataWorkspaceSize WorkspaceQuery");
SAME_TYPE(cudnnGetConvolutionBackwardFilterWorkspaceSize, swift_bwdFilterWorkspace, "CuDNN.swift: cudnnGetConvolutionBackwardFilterWorkspaceSize WorkspaceQuery");

/* Convolve: (Handle?, UnsafeRawPointer, D?, UnsafeRawPointer?, D?, UnsafeRawPointer?, D?, Int32,
              UnsafeMutableRawPointer?, Int, UnsafeRawPointer, D?, UnsafeMutableRawPointer?) */
typedef cudnnStatus_t (*swift_forward)(cudnnHandle_t, const void *, cudnnTensorDescriptor_t, const void *,
                                       cudnnFilterDescriptor_t, const void *, cudnnConvolutionDescriptor_t,
                                       cudnnConvolutionFwdAlgo_t, void *, size_t, const void *,
                                       cudnnTensorDescriptor_t, void *);
typedef cudnnStatus_t (*swift_backwardData)(cudnnHandle_t, const void *, cudnnFilterDescriptor_t, const void *,
                                            cudnnTensorDescriptor_t, const void *, cudnnConvolutionDescriptor_t,
                                            cudnnConvolutionBwdDataAlgo_t, void *, size_t, const void *,
                                            cudnnTensorDescriptor_t, void *);
typedef cudnnStatus_t (*swift_backwardFilter)(cudnnHandle_t, const void *, cudnnTensorDescriptor_t, const void *,
                                              cudnnTensorDescriptor_t, const void *, cudnnConvolutionDescriptor_t,
                                              cudnnConvolutionBwdFilterAlgo_t, void *, size_t, const void *,
                                              cudnnFilterDescriptor_t, void *);
SAME_TYPE(cudnnConvolutionForward, swift_forward, "CuDNN.swift: cudnnConvolutionForward Convolve");
SAME_TYPE(cudnnConvolutionBackwardData, swift_backwardData, "CuDNN.swift: cudnnConvolutionBackwardData Convolve");
SAME_TYPE(cudnnConvolutionBackwardFilter, swift_backwardFilter, "CuDNN.swift: cudnnConvolutionBackwardFilter Convolve");

/* Time: (Handle?, D?, UnsafeRawPointer?, D?, UnsafeRawPointer?, D?, D?, UnsafeMutableRawPointer?, Int32,
          UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer, UnsafeMutableRawPointer?, Int) */
typedef cudnnStatus_t (*swift_timeForward)(cudnnHandle_t, cudnnTensorDescriptor_t, const void *, cudnnFilterDescriptor_t,
                                           const void *, cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, void *,
                                           int, int *, cudnnConvolutionFwdAlgoPerf_t *, void *, size_t);
typedef cudnnStatus_t (*swift_timeBackwardData)(cudnnHandle_t, cudnnFilterDescriptor_t, const void *, cudnnTensorDescriptor_t,
                                                const void *, cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, void *,
                                                int, int *, cudnnConvolutionBwdDataAlgoPerf_t *, void *, size_t);
typedef cudnnStatus_t (*swift_timeBackwardFilter)(cudnnHandle_t, cudnnTensorDescriptor_t, const void *, cudnnTensorDescriptor_t,
                                                  const void *, cudnnConvolutionDescriptor_t, cudnnFilterDescriptor_t, void *,
                                                  int, int *, cudnnConvolutionBwdFilterAlgoPerf_t *, void *, size_t);
SAME_TYPE(cudnnFindConvolutionForwardAlgorithmEx, swift_timeForward, "CuDNN.swift: cudnnFindConvolutionForwardAlgorithmEx Time");
SAME_TYPE(cudnnFindConvolutionBackwardDataAlgorithmEx, swift_timeBackwardData, "CuDNN.swift: cudnnFindConvolutionBackwardDataAlgorithmEx Time");
SAME_TYPE(cudnnFindConvolutionBackwardFilterAlgorithmEx, swift_timeBackwardFilter, "CuDNN.swift: cudnnFindConvolutionBackwardFilterAlgorithmEx Time");

/* ---- Tests/CompSegNNTests/CUDALoaderTests.swift (CuDNNDescriptorTests' getters; I = UnsafeMutablePointer<Int32>) ---- */
typedef cudnnStatus_t (*swift_getTensor)(cudnnTensorDescriptor_t, cudnnDataType_t *, int *, int *, int *, int *,
                                         int *, int *, int *, int *);
typedef cudnnStatus_t (*swift_getFilter)(cudnnFilterDescriptor_t, cudnnDataType_t *, cudnnTensorFormat_t *, int *, int *,
                                         int *, int *);
typedef cudnnStatus_t (*swift_getConvolution)(cudnnConvolutionDescriptor_t, int *, int *, int *, int *, int *, int *,
                                              cudnnConvolutionMode_t *, cudnnDataType_t *);
typedef cudnnStatus_t (*swift_getMathType)(cudnnConvolutionDescriptor_t, cudnnMathType_t *);
typedef cudnnStatus_t (*swift_outputDimensions)(cudnnConvolutionDescriptor_t, cudnnTensorDescriptor_t, cudnnFilterDescriptor_t,
                                                int *, int *, int *, int *);
SAME_TYPE(cudnnGetTensor4dDescriptor, swift_getTensor, "CUDALoaderTests.swift: cudnnGetTensor4dDescriptor (D?, I x 9)");
SAME_TYPE(cudnnGetFilter4dDescriptor, swift_getFilter, "CUDALoaderTests.swift: cudnnGetFilter4dDescriptor (D?, I x 6)");
SAME_TYPE(cudnnGetConvolution2dDescriptor, swift_getConvolution, "CUDALoaderTests.swift: cudnnGetConvolution2dDescriptor (D?, I x 8)");
SAME_TYPE(cudnnGetConvolutionMathType, swift_getMathType, "CUDALoaderTests.swift: cudnnGetConvolutionMathType (D?, I)");
SAME_TYPE(cudnnGetConvolution2dForwardOutputDim, swift_outputDimensions, "CUDALoaderTests.swift: cudnnGetConvolution2dForwardOutputDim (D?, D?, D?, I x 4)");
