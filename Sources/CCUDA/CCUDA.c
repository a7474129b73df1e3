#include "CCUDA.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *ccuda_open(const char *path, int global, char *error, size_t errorSize) {
    void *handle = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!handle && error && errorSize) {
        const char *reason = dlerror();
        snprintf(error, errorSize, "%s", reason ? reason : "unknown dlopen error");
    }
    return handle;
}

void ccuda_close(void *handle) {
    if (handle) dlclose(handle);
}

// One entry: where to store the address and the symbol names to try, newest ABI first (cuda.h maps the plain
// names of these functions to their _v2 versions; the plain ones are the old ABI).
typedef struct {
    void **slot;
    const char *names[3];
} entry;

static const char *resolve(void *handle, const entry *entries, size_t count) {
    for (size_t i = 0; i < count; i++) {
        void *address = NULL;
        for (int n = 0; n < 3 && entries[i].names[n] && !address; n++) address = dlsym(handle, entries[i].names[n]);
        if (!address) return entries[i].names[0];
        *entries[i].slot = address;
    }
    return NULL;
}

#define ENTRY(api, field, ...) { (void **)&(api)->field, { __VA_ARGS__ } }

const char *ccuda_load_driver(void *handle, ccuda_driver *api) {
    const entry entries[] = {
        ENTRY(api, cuInit, "cuInit"),
        ENTRY(api, cuDriverGetVersion, "cuDriverGetVersion"),
        ENTRY(api, cuGetErrorString, "cuGetErrorString"),
        ENTRY(api, cuDeviceGetCount, "cuDeviceGetCount"),
        ENTRY(api, cuDeviceGet, "cuDeviceGet"),
        ENTRY(api, cuDeviceGetName, "cuDeviceGetName"),
        ENTRY(api, cuDeviceGetAttribute, "cuDeviceGetAttribute"),
        ENTRY(api, cuDeviceTotalMem, "cuDeviceTotalMem_v2"),
        ENTRY(api, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
        ENTRY(api, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"),
        ENTRY(api, cuCtxSetCurrent, "cuCtxSetCurrent"),
        ENTRY(api, cuMemGetInfo, "cuMemGetInfo_v2"),
        ENTRY(api, cuMemAlloc, "cuMemAlloc_v2"),
        ENTRY(api, cuMemFree, "cuMemFree_v2"),
        ENTRY(api, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
        ENTRY(api, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
        ENTRY(api, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2"),
        ENTRY(api, cuMemsetD32Async, "cuMemsetD32Async"),
        ENTRY(api, cuStreamCreate, "cuStreamCreate"),
        ENTRY(api, cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy"),
        ENTRY(api, cuStreamSynchronize, "cuStreamSynchronize"),
        ENTRY(api, cuModuleLoadData, "cuModuleLoadData"),
        ENTRY(api, cuModuleUnload, "cuModuleUnload"),
        ENTRY(api, cuModuleGetFunction, "cuModuleGetFunction"),
        ENTRY(api, cuLaunchKernel, "cuLaunchKernel"),
    };
    return resolve(handle, entries, sizeof entries / sizeof entries[0]);
}

const char *ccuda_load_nvrtc(void *handle, ccuda_nvrtc *api) {
    const entry entries[] = {
        ENTRY(api, nvrtcVersion, "nvrtcVersion"),
        ENTRY(api, nvrtcGetErrorString, "nvrtcGetErrorString"),
        ENTRY(api, nvrtcCreateProgram, "nvrtcCreateProgram"),
        ENTRY(api, nvrtcDestroyProgram, "nvrtcDestroyProgram"),
        ENTRY(api, nvrtcCompileProgram, "nvrtcCompileProgram"),
        ENTRY(api, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize"),
        ENTRY(api, nvrtcGetProgramLog, "nvrtcGetProgramLog"),
        ENTRY(api, nvrtcGetCUBINSize, "nvrtcGetCUBINSize"),
        ENTRY(api, nvrtcGetCUBIN, "nvrtcGetCUBIN"),
        ENTRY(api, nvrtcGetPTXSize, "nvrtcGetPTXSize"),
        ENTRY(api, nvrtcGetPTX, "nvrtcGetPTX"),
        ENTRY(api, nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs"),
        ENTRY(api, nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs"),
    };
    return resolve(handle, entries, sizeof entries / sizeof entries[0]);
}

const char *ccuda_load_cublas(void *handle, ccuda_cublas *api) {
    const entry entries[] = {
        ENTRY(api, cublasCreate, "cublasCreate_v2"),
        ENTRY(api, cublasDestroy, "cublasDestroy_v2"),
        ENTRY(api, cublasGetVersion, "cublasGetVersion_v2"),
        ENTRY(api, cublasSetStream, "cublasSetStream_v2"),
        ENTRY(api, cublasGemmEx, "cublasGemmEx"),
        ENTRY(api, cublasGemmStridedBatchedEx, "cublasGemmStridedBatchedEx"),
    };
    return resolve(handle, entries, sizeof entries / sizeof entries[0]);
}
