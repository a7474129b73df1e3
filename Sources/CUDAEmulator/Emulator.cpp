// See include/CUDAEmulator.h. Entry points keep the driver's, NVRTC's and cuBLAS's exported names and ABI; they
// return the same error codes for the cases the backend handles (no device, out of memory, compile errors).
#include "CUDAEmulator.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

extern "C" void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc);

namespace {

std::recursive_mutex mutex;
int deviceCount = 1;
unsigned long long memoryLimit = 1ull << 30;
unsigned long long memoryInUse = 0;
std::map<uintptr_t, size_t> allocations;
medlens_emulator_stats counters = {};

constexpr int kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2, kNoDevice = 100, kInvalidDevice = 101,
              kInvalidImage = 200, kNotFound = 500;

// Compiled kernels see the CUDA built-ins as these definitions; blocks and threads run one after another.
const char *const prelude = R"PRELUDE(
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tuple>
#include <type_traits>
#include <utility>
struct uint3 { unsigned int x, y, z; };
struct dim3 { unsigned int x, y, z; };
namespace emu { inline uint3 thread_, block_; inline dim3 blockDim_, gridDim_; }
#define threadIdx emu::thread_
#define blockIdx emu::block_
#define blockDim emu::blockDim_
#define gridDim emu::gridDim_
#ifndef __global__
#define __global__
#endif
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static
inline float __int_as_float(int i) { float f; memcpy(&f, &i, sizeof f); return f; }
inline int __float_as_int(float f) { int i; memcpy(&i, &f, sizeof i); return i; }
inline float atomicAdd(float *a, float v) { float old = *a; *a = old + v; return old; }
inline double atomicAdd(double *a, double v) { double old = *a; *a = old + v; return old; }
inline void __syncthreads() {
    fputs("CUDA emulator: __syncthreads is not emulated (threads run one after another)\n", stderr);
    abort();
}
namespace emu {
template <class T> using bare = typename std::remove_cv<typename std::remove_reference<T>::type>::type;
template <class... A, size_t... I>
void launch(void (*kernel)(A...), const unsigned *grid, const unsigned *block, void **params, std::index_sequence<I...>) {
    std::tuple<bare<A>...> args(*static_cast<bare<A> *>(params[I])...);
    gridDim_ = {grid[0], grid[1], grid[2]};
    blockDim_ = {block[0], block[1], block[2]};
    for (unsigned bz = 0; bz < grid[2]; bz++) for (unsigned by = 0; by < grid[1]; by++) for (unsigned bx = 0; bx < grid[0]; bx++) {
        block_ = {bx, by, bz};
        for (unsigned tz = 0; tz < block[2]; tz++) for (unsigned ty = 0; ty < block[1]; ty++) for (unsigned tx = 0; tx < block[0]; tx++) {
            thread_ = {tx, ty, tz};
            std::apply(kernel, args);
        }
    }
}
template <class... A> void launch(void (*kernel)(A...), const unsigned *grid, const unsigned *block, void **params) {
    launch(kernel, grid, block, params, std::index_sequence_for<A...>{});
}
}
)PRELUDE";

const char imageMagic[8] = {'M', 'L', 'E', 'M', 'U', '0', '0', '1'};

std::string compilerPath() {
    if (const char *chosen = getenv("MEDLENS_EMULATOR_CXX")) return access(chosen, X_OK) == 0 ? chosen : "";
    std::vector<std::string> directories;
    if (const char *path = getenv("PATH")) {
        std::stringstream list(path);
        std::string item;
        while (std::getline(list, item, ':')) if (!item.empty()) directories.push_back(item);
    }
    directories.push_back("/opt/swift/usr/bin");
    directories.push_back("/usr/bin");
    for (const char *name : {"clang++", "g++", "c++"})
        for (const auto &dir : directories) {
            std::string candidate = dir + "/" + name;
            if (access(candidate.c_str(), X_OK) == 0) return candidate;
        }
    return "";
}

bool readFile(const std::string &path, std::string &out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream buffer;
    buffer << in.rdbuf();
    out = buffer.str();
    return true;
}

bool writeFile(const std::string &path, const std::string &text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    return bool(out);
}

// Kernel names: after preprocessing with __global__ spelled __emu_global__, "__emu_global__ void NAME(".
std::vector<std::string> kernelNames(const std::string &text) {
    std::vector<std::string> names;
    const std::string marker = "__emu_global__";
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
        size_t i = at + marker.size();
        auto skip = [&] { while (i < text.size() && isspace((unsigned char)text[i])) i++; };
        skip();
        if (text.compare(i, 4, "void") != 0) continue;
        i += 4;
        skip();
        size_t start = i;
        while (i < text.size() && (isalnum((unsigned char)text[i]) || text[i] == '_')) i++;
        if (i > start) names.push_back(text.substr(start, i - start));
    }
    return names;
}

struct Program {
    std::string source, log, image;
};

struct Module {
    void *handle;
};

std::string quoted(const std::string &s) { return "'" + s + "'"; }

// Builds the module; returns false with the compiler's messages in `log`.
bool compile(Program &program) {
    std::string cxx = compilerPath();
    if (cxx.empty()) {
        program.log = "CUDA emulator: no host C++ compiler found (set MEDLENS_EMULATOR_CXX)";
        return false;
    }
    const char *tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/medlens-emulator-XXXXXX";
    std::vector<char> dirBuffer(pattern.begin(), pattern.end());
    dirBuffer.push_back(0);
    if (!mkdtemp(dirBuffer.data())) {
        program.log = "CUDA emulator: cannot create a temporary folder";
        return false;
    }
    std::string dir = dirBuffer.data();
    std::string log = dir + "/log", pre = dir + "/pre.cpp", module = dir + "/module.cpp", so = dir + "/module.so";
    bool ok = writeFile(dir + "/prelude.h", prelude) && writeFile(dir + "/kernels.cpp", program.source);
    // The kernels' own text preprocessed (no system headers) names them; the module then includes the prelude,
    // the source as written and one launcher per kernel.
    std::string preprocess = quoted(cxx) + " -std=c++17 -E -P -x c++ -D__global__=__emu_global__ " +
                             quoted(dir + "/kernels.cpp") + " -o " + quoted(pre) + " >" + quoted(log) + " 2>&1";
    std::string text;
    ok = ok && system(preprocess.c_str()) == 0 && readFile(pre, text);
    if (ok) {
        std::string unit = "#include \"prelude.h\"\n#include \"kernels.cpp\"\n";
        for (const auto &name : kernelNames(text))
            unit += "extern \"C\" void __emu_launch_" + name +
                    "(const unsigned *g, const unsigned *b, void **p) { emu::launch(" + name + ", g, b, p); }\n";
        std::string build = quoted(cxx) + " -std=c++17 -O2 -fPIC -shared -w -U_FORTIFY_SOURCE -x c++ " + quoted(module) +
                            " -o " + quoted(so) + " >>" + quoted(log) + " 2>&1";
        ok = writeFile(module, unit) && system(build.c_str()) == 0;
    }
    std::string binary;
    ok = ok && readFile(so, binary);
    readFile(log, program.log);
    if (ok) {
        uint64_t size = binary.size();
        program.image.assign(imageMagic, sizeof imageMagic);
        program.image.append(reinterpret_cast<const char *>(&size), sizeof size);
        program.image += binary;
    }
    for (const char *name : {"/log", "/pre.cpp", "/module.cpp", "/module.so", "/prelude.h", "/kernels.cpp"})
        unlink((dir + name).c_str());
    rmdir(dir.c_str());
    return ok;
}

void roundMantissa(float *values, size_t count, int droppedBits) {
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &values[i], 4);
        if ((u & 0x7f800000u) != 0x7f800000u) {  // finite: round to nearest even on the kept bits
            uint32_t half = 1u << (droppedBits - 1), lsb = (u >> droppedBits) & 1u;
            u = (u + half - 1 + lsb) & ~((1u << droppedBits) - 1);
        }
        memcpy(&values[i], &u, 4);
    }
}

}  // namespace

extern "C" {

void medlens_emulator_configure(int devices, unsigned long long memoryBytes) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    deviceCount = devices;
    memoryLimit = memoryBytes;
}

void medlens_emulator_get_stats(medlens_emulator_stats *stats) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    *stats = counters;
    stats->bytesInUse = memoryInUse;
}

const char *medlens_emulator_compiler(void) {
    static std::string found;
    found = compilerPath();
    return found.empty() ? nullptr : found.c_str();
}

// ---- driver (libcuda.so.1)

int cuInit(unsigned int) { return deviceCount > 0 ? kSuccess : kNoDevice; }
int cuDriverGetVersion(int *version) { *version = 13000; return kSuccess; }
int cuGetErrorString(int error, const char **text) {
    switch (error) {
    case kSuccess: *text = "no error"; break;
    case kOutOfMemory: *text = "out of memory"; break;
    case kNoDevice: *text = "no CUDA-capable device is detected"; break;
    case kInvalidDevice: *text = "invalid device ordinal"; break;
    case kInvalidImage: *text = "device kernel image is invalid"; break;
    case kNotFound: *text = "named symbol not found"; break;
    default: *text = "invalid argument"; break;
    }
    return kSuccess;
}
int cuDeviceGetCount(int *count) { *count = deviceCount; return deviceCount > 0 ? kSuccess : kNoDevice; }
int cuDeviceGet(int *device, int ordinal) {
    if (ordinal < 0 || ordinal >= deviceCount) return kInvalidDevice;
    *device = ordinal;
    return kSuccess;
}
int cuDeviceGetName(char *name, int length, int) {
    snprintf(name, length, "MedLens CUDA emulator");
    return kSuccess;
}
int cuDeviceGetAttribute(int *value, int attribute, int) {
    switch (attribute) {
    case 1: *value = 1024; return kSuccess;  // max threads per block
    case 16: *value = 1; return kSuccess;    // multiprocessors: keeps grids (and so emulation time) small
    case 75: *value = 9; return kSuccess;    // compute capability 9.0
    case 76: *value = 0; return kSuccess;
    default: return kInvalidValue;
    }
}
int cuDeviceTotalMem_v2(size_t *bytes, int) { *bytes = memoryLimit; return kSuccess; }
int cuDevicePrimaryCtxRetain(void **context, int) { static int primary; *context = &primary; return kSuccess; }
int cuDevicePrimaryCtxRelease_v2(int) { return kSuccess; }
int cuCtxSetCurrent(void *) { return kSuccess; }
int cuMemGetInfo_v2(size_t *freeBytes, size_t *total) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    *freeBytes = memoryLimit > memoryInUse ? memoryLimit - memoryInUse : 0;
    *total = memoryLimit;
    return kSuccess;
}
int cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    if (bytes == 0) return kInvalidValue;
    if (memoryInUse + bytes > memoryLimit) return kOutOfMemory;
    void *memory = aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!memory) return kOutOfMemory;
    allocations[(uintptr_t)memory] = bytes;
    memoryInUse += bytes;
    counters.allocations++;
    *pointer = (uintptr_t)memory;
    return kSuccess;
}
int cuMemFree_v2(unsigned long long pointer) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    auto found = allocations.find((uintptr_t)pointer);
    if (found == allocations.end()) return kInvalidValue;
    memoryInUse -= found->second;
    allocations.erase(found);
    free((void *)(uintptr_t)pointer);
    return kSuccess;
}
int cuMemcpyHtoDAsync_v2(unsigned long long to, const void *from, size_t bytes, void *) {
    memcpy((void *)(uintptr_t)to, from, bytes);
    return kSuccess;
}
int cuMemcpyDtoHAsync_v2(void *to, unsigned long long from, size_t bytes, void *) {
    memcpy(to, (const void *)(uintptr_t)from, bytes);
    return kSuccess;
}
int cuMemcpyDtoDAsync_v2(unsigned long long to, unsigned long long from, size_t bytes, void *) {
    memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
    return kSuccess;
}
int cuMemsetD32Async(unsigned long long to, unsigned int value, size_t count, void *) {
    uint32_t *p = (uint32_t *)(uintptr_t)to;
    for (size_t i = 0; i < count; i++) p[i] = value;
    return kSuccess;
}
int cuStreamCreate(void **stream, unsigned int) { static int s; *stream = &s; return kSuccess; }
int cuStreamDestroy_v2(void *) { return kSuccess; }
int cuStreamSynchronize(void *) { return kSuccess; }

int cuModuleLoadData(void **module, const void *image) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    const char *bytes = static_cast<const char *>(image);
    if (memcmp(bytes, imageMagic, sizeof imageMagic) != 0) return kInvalidImage;
    uint64_t size;
    memcpy(&size, bytes + sizeof imageMagic, sizeof size);
    const char *tmp = getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/medlens-emulator-module-XXXXXX";
    std::vector<char> name(path.begin(), path.end());
    name.push_back(0);
    int fd = mkstemp(name.data());
    if (fd < 0) return kInvalidImage;
    bool written = write(fd, bytes + sizeof imageMagic + sizeof size, size) == (ssize_t)size;
    close(fd);
    void *handle = written ? dlopen(name.data(), RTLD_NOW | RTLD_LOCAL) : nullptr;
    unlink(name.data());
    if (!handle) return kInvalidImage;
    *module = new Module{handle};
    return kSuccess;
}
int cuModuleUnload(void *module) {
    delete static_cast<Module *>(module);  // the code stays mapped: functions may still be referenced
    return kSuccess;
}
int cuModuleGetFunction(void **function, void *module, const char *name) {
    void *launcher = dlsym(static_cast<Module *>(module)->handle, ("__emu_launch_" + std::string(name)).c_str());
    if (!launcher) return kNotFound;
    *function = launcher;
    return kSuccess;
}
int cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned, void *, void **params, void **) {
    if (!gx || !gy || !gz || !bx || !by || !bz || bx * by * bz > 1024) return kInvalidValue;
    std::lock_guard<std::recursive_mutex> lock(mutex);
    unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
    reinterpret_cast<void (*)(const unsigned *, const unsigned *, void **)>(function)(grid, block, params);
    counters.launches++;
    return kSuccess;
}

// ---- NVRTC (libnvrtc.so)

int nvrtcVersion(int *major, int *minor) { *major = 12; *minor = 0; return 0; }
const char *nvrtcGetErrorString(int result) { return result == 0 ? "NVRTC_SUCCESS" : "NVRTC_ERROR_COMPILATION"; }
int nvrtcCreateProgram(void **program, const char *source, const char *, int, const char *const *, const char *const *) {
    *program = new Program{source, "", ""};
    return 0;
}
int nvrtcDestroyProgram(void **program) {
    delete static_cast<Program *>(*program);
    *program = nullptr;
    return 0;
}
int nvrtcCompileProgram(void *program, int, const char *const *) {
    std::lock_guard<std::recursive_mutex> lock(mutex);
    counters.compilations++;
    return compile(*static_cast<Program *>(program)) ? 0 : 6;
}
int nvrtcGetProgramLogSize(void *program, size_t *size) { *size = static_cast<Program *>(program)->log.size() + 1; return 0; }
int nvrtcGetProgramLog(void *program, char *log) {
    const std::string &text = static_cast<Program *>(program)->log;
    memcpy(log, text.c_str(), text.size() + 1);
    return 0;
}
int nvrtcGetCUBINSize(void *program, size_t *size) { *size = static_cast<Program *>(program)->image.size(); return 0; }
int nvrtcGetCUBIN(void *program, char *cubin) {
    const std::string &image = static_cast<Program *>(program)->image;
    memcpy(cubin, image.data(), image.size());
    return 0;
}
int nvrtcGetPTXSize(void *program, size_t *size) { return nvrtcGetCUBINSize(program, size); }
int nvrtcGetPTX(void *program, char *ptx) { return nvrtcGetCUBIN(program, ptx); }
int nvrtcGetNumSupportedArchs(int *count) { *count = 5; return 0; }
int nvrtcGetSupportedArchs(int *archs) {
    const int list[] = {75, 80, 86, 89, 90};
    memcpy(archs, list, sizeof list);
    return 0;
}

// ---- cuBLAS (libcublas.so)

int cublasCreate_v2(void **handle) {
    if (deviceCount <= 0) return 1;  // CUBLAS_STATUS_NOT_INITIALIZED
    static int h;
    *handle = &h;
    return 0;
}
int cublasDestroy_v2(void *) { return 0; }
int cublasGetVersion_v2(void *, int *version) { *version = 130000; return 0; }
int cublasSetStream_v2(void *, void *) { return 0; }

int cublasGemmStridedBatchedEx(void *, int transa, int transb, int m, int n, int k, const void *alpha, const void *a,
                               int aType, int lda, long long strideA, const void *b, int bType, int ldb,
                               long long strideB, const void *beta, void *c, int cType, int ldc, long long strideC,
                               int batchCount, int computeType, int) {
    if (aType != 0 || bType != 0 || cType != 0) return 15;  // CUBLAS_STATUS_NOT_SUPPORTED
    if (computeType != 68 && computeType != 75 && computeType != 77) return 15;
    int aRows = transa ? k : m, bRows = transb ? n : k;
    if (m < 0 || n < 0 || k < 0 || batchCount < 0 || lda < (aRows > 1 ? aRows : 1) || ldb < (bRows > 1 ? bRows : 1) ||
        ldc < (m > 1 ? m : 1) || (transa != 0 && transa != 1) || (transb != 0 && transb != 1))
        return 7;  // CUBLAS_STATUS_INVALID_VALUE
    std::lock_guard<std::recursive_mutex> lock(mutex);
    int aCols = transa ? m : k, bCols = transb ? k : n;
    size_t aCount = aCols ? (size_t)lda * (aCols - 1) + aRows : 0, bCount = bCols ? (size_t)ldb * (bCols - 1) + bRows : 0;
    for (int i = 0; i < batchCount; i++) {
        const float *pa = static_cast<const float *>(a) + i * strideA, *pb = static_cast<const float *>(b) + i * strideB;
        float *pc = static_cast<float *>(c) + i * strideC;
        std::vector<float> ra, rb;
        if (computeType != 68) {  // tensor-core inputs: TF32 keeps 10 mantissa bits, BF16 7
            int dropped = computeType == 77 ? 13 : 16;
            ra.assign(pa, pa + aCount);
            rb.assign(pb, pb + bCount);
            roundMantissa(ra.data(), ra.size(), dropped);
            roundMantissa(rb.data(), rb.size(), dropped);
            pa = ra.data();
            pb = rb.data();
        }
        if (m && n)
            cblas_sgemm(102, transa ? 112 : 111, transb ? 112 : 111, m, n, k, *static_cast<const float *>(alpha), pa, lda,
                        pb, ldb, *static_cast<const float *>(beta), pc, ldc);
        counters.gemms++;
    }
    return 0;
}

int cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha, const void *a, int aType,
                 int lda, const void *b, int bType, int ldb, const void *beta, void *c, int cType, int ldc,
                 int computeType, int algorithm) {
    return cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, a, aType, lda, 0, b, bType, ldb, 0, beta,
                                      c, cType, ldc, 0, 1, computeType, algorithm);
}

}  // extern "C"
