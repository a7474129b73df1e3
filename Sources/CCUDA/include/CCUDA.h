// The few CUDA driver, NVRTC and cuBLAS entry points MedEngine uses, declared by hand and resolved at run time
// with dlopen/dlsym, so that building MedLens needs no CUDA headers or libraries and the binary runs where there
// is no CUDA at all. Types and values as in cuda.h, nvrtc.h and cublas_api.h (ABI-stable across CUDA 11-13).
#ifndef CCUDA_H
#define CCUDA_H

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;

typedef int nvrtcResult;
typedef struct _nvrtcProgram *nvrtcProgram;

typedef int cublasStatus_t;
typedef struct cublasContext *cublasHandle_t;

enum {
    CCUDA_SUCCESS = 0,
    CCUDA_ERROR_OUT_OF_MEMORY = 2,
    CCUDA_ERROR_NOT_INITIALIZED = 3,
    CCUDA_ERROR_NO_DEVICE = 100,
    CCUDA_ERROR_INVALID_DEVICE = 101,
    CCUDA_STREAM_NON_BLOCKING = 1,
    CCUDA_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    CCUDA_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

enum {
    CCUDA_NVRTC_SUCCESS = 0,
    CCUDA_NVRTC_ERROR_COMPILATION = 6,
};

enum {
    CCUDA_CUBLAS_SUCCESS = 0,
    CCUDA_CUBLAS_ALLOC_FAILED = 3,
    CCUDA_CUBLAS_OP_N = 0,
    CCUDA_CUBLAS_OP_T = 1,
    CCUDA_R_32F = 0,
    CCUDA_CUBLAS_COMPUTE_32F = 68,
    CCUDA_CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    CCUDA_CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
    CCUDA_CUBLAS_GEMM_DEFAULT = -1,
};

/// libcuda.so.1
typedef struct ccuda_driver {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*cuDeviceTotalMem)(size_t *bytes, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext context);
    CUresult (*cuMemGetInfo)(size_t *free, size_t *total);
    CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr pointer);
    CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoHAsync)(void *destination, CUdeviceptr source, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr destination, CUdeviceptr source, size_t bytes, CUstream stream);
    CUresult (*cuMemsetD32Async)(CUdeviceptr destination, unsigned int value, size_t count, CUstream stream);
    CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
    CUresult (*cuStreamDestroy)(CUstream stream);
    CUresult (*cuStreamSynchronize)(CUstream stream);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleUnload)(CUmodule module);
    CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
    CUresult (*cuLaunchKernel)(CUfunction function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                               unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                               unsigned int sharedBytes, CUstream stream, void **parameters, void **extra);
} ccuda_driver;

/// libnvrtc.so
typedef struct ccuda_nvrtc {
    nvrtcResult (*nvrtcVersion)(int *major, int *minor);
    const char *(*nvrtcGetErrorString)(nvrtcResult result);
    nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram *program, const char *source, const char *name, int headers,
                                      const char *const *headerSources, const char *const *headerNames);
    nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram *program);
    nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram program, int optionCount, const char *const *options);
    nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram program, char *log);
    nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram program, char *cubin);
    nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*nvrtcGetPTX)(nvrtcProgram program, char *ptx);
    nvrtcResult (*nvrtcGetNumSupportedArchs)(int *count);
    nvrtcResult (*nvrtcGetSupportedArchs)(int *archs);
} ccuda_nvrtc;

/// libcublas.so (which loads libcublasLt.so beside it)
typedef struct ccuda_cublas {
    cublasStatus_t (*cublasCreate)(cublasHandle_t *handle);
    cublasStatus_t (*cublasDestroy)(cublasHandle_t handle);
    cublasStatus_t (*cublasGetVersion)(cublasHandle_t handle, int *version);
    cublasStatus_t (*cublasSetStream)(cublasHandle_t handle, CUstream stream);
    cublasStatus_t (*cublasGemmEx)(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                   const void *alpha, const void *a, int aType, int lda,
                                   const void *b, int bType, int ldb, const void *beta,
                                   void *c, int cType, int ldc, int computeType, int algorithm);
    cublasStatus_t (*cublasGemmStridedBatchedEx)(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                                 const void *alpha, const void *a, int aType, int lda, long long strideA,
                                                 const void *b, int bType, int ldb, long long strideB,
                                                 const void *beta, void *c, int cType, int ldc, long long strideC,
                                                 int batchCount, int computeType, int algorithm);
} ccuda_cublas;

/// dlopen with RTLD_NOW (and RTLD_GLOBAL when `global`); on failure NULL, with dlerror()'s text in `error`.
void *ccuda_open(const char *path, int global, char *error, size_t errorSize);
void ccuda_close(void *handle);

/// Resolve every entry point from an opened library; each returns NULL, or the name of the first symbol missing.
const char *ccuda_load_driver(void *handle, ccuda_driver *api);
const char *ccuda_load_nvrtc(void *handle, ccuda_nvrtc *api);
const char *ccuda_load_cublas(void *handle, ccuda_cublas *api);

#endif
