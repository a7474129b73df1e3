// A stand-in for libcuda.so.1, libnvrtc.so and libcublas.so, for tests on machines without a GPU: the same
// exported entry points (the subset MedEngine's CUDA backend resolves), with device memory in host memory, NVRTC
// compiling the kernel source with the host's C++ compiler into a loadable module, kernels run thread by thread
// on the calling thread, and cuBLAS GEMMs done by OpenBLAS (with TF32/BF16 input rounding for those compute types).
// Point CUDAConfiguration's three library paths at this one file to run the real backend code on it.
#ifndef CUDA_EMULATOR_H
#define CUDA_EMULATOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct medlens_emulator_stats {
    unsigned long long launches;
    unsigned long long compilations;
    unsigned long long allocations;
    unsigned long long bytesInUse;
    unsigned long long gemms;
} medlens_emulator_stats;

/// Devices reported (0 makes cuInit fail with CUDA_ERROR_NO_DEVICE) and the device memory size in bytes.
void medlens_emulator_configure(int devices, unsigned long long memoryBytes);
void medlens_emulator_get_stats(medlens_emulator_stats *stats);
/// The host C++ compiler the emulated NVRTC uses, or NULL when none is found ($MEDLENS_EMULATOR_CXX, clang++, g++).
const char *medlens_emulator_compiler(void);

#ifdef __cplusplus
}
#endif

#endif
