import Foundation

/// Tensor-core use in matrix products (convolutions and linear layers); everything else is FP32.
public enum CUDAMath: String, CaseIterable, Sendable, Codable {
    /// IEEE FP32 products: matches the CPU within float rounding.
    case fp32
    /// Inputs rounded to TF32 (10-bit mantissa) on the tensor cores, FP32 accumulation.
    case tf32
    /// Inputs rounded to BF16 (7-bit mantissa) on the tensor cores, FP32 accumulation.
    case bf16
}

/// Where the CUDA libraries are and how the backend uses the device. The daemon builds one from its config
/// (`fromEnvironment()` first, then its own keys); every field has a working default.
public struct CUDAConfiguration: Sendable, Equatable {
    /// Folders searched first for libcuda.so.1, libnvrtc.so.* and libcublas.so.* (e.g. a CUDA toolkit's lib64 or
    /// a Python wheel's nvidia/cu13/lib).
    public var libraryDirectories: [String]
    /// Exact files, overriding the search for that library.
    public var driverLibrary: String?
    public var nvrtcLibrary: String?
    public var cublasLibrary: String?
    /// Also try the plain sonames (LD_LIBRARY_PATH, the linker cache) and `standardDirectories`.
    public var searchStandardLocations: Bool
    public var deviceOrdinal: Int
    public var math: CUDAMath
    /// Compiled kernels are kept here, keyed by source hash, compiler version and device architecture;
    /// nil: $MEDLENS_CUDA_CACHE, else $XDG_CACHE_HOME/medlens/cuda, else ~/.cache/medlens/cuda.
    public var kernelCacheDirectory: String?
    /// Upper bound for one convolution's column buffer; larger batches are processed in chunks.
    public var workspaceBytes: Int

    public init(libraryDirectories: [String] = [], driverLibrary: String? = nil, nvrtcLibrary: String? = nil,
                cublasLibrary: String? = nil, searchStandardLocations: Bool = true, deviceOrdinal: Int = 0,
                math: CUDAMath = .fp32, kernelCacheDirectory: String? = nil, workspaceBytes: Int = 1 << 30) {
        self.libraryDirectories = libraryDirectories
        self.driverLibrary = driverLibrary
        self.nvrtcLibrary = nvrtcLibrary
        self.cublasLibrary = cublasLibrary
        self.searchStandardLocations = searchStandardLocations
        self.deviceOrdinal = deviceOrdinal
        self.math = math
        self.kernelCacheDirectory = kernelCacheDirectory
        self.workspaceBytes = workspaceBytes
    }

    /// The defaults with the environment applied: MEDLENS_CUDA_LIBRARY_PATH (folders, ':'-separated),
    /// MEDLENS_CUDA_DRIVER / MEDLENS_CUDA_NVRTC / MEDLENS_CUDA_CUBLAS (exact files), MEDLENS_CUDA_DEVICE (ordinal),
    /// MEDLENS_CUDA_MATH (fp32 | tf32 | bf16), MEDLENS_CUDA_CACHE (folder).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> CUDAConfiguration {
        var config = CUDAConfiguration()
        if let path = environment["MEDLENS_CUDA_LIBRARY_PATH"] {
            config.libraryDirectories = path.split(separator: ":").map(String.init)
        }
        config.driverLibrary = environment["MEDLENS_CUDA_DRIVER"]
        config.nvrtcLibrary = environment["MEDLENS_CUDA_NVRTC"]
        config.cublasLibrary = environment["MEDLENS_CUDA_CUBLAS"]
        if let device = environment["MEDLENS_CUDA_DEVICE"].flatMap(Int.init) { config.deviceOrdinal = device }
        if let math = environment["MEDLENS_CUDA_MATH"].flatMap(CUDAMath.init(rawValue:)) { config.math = math }
        config.kernelCacheDirectory = environment["MEDLENS_CUDA_CACHE"]
        return config
    }

    /// Searched after `libraryDirectories` (and after the plain sonames), in this order.
    public static var standardDirectories: [String] {
        let env = ProcessInfo.processInfo.environment
        let homes = [env["CUDA_HOME"], env["CUDA_PATH"]].compactMap { $0 }.map { $0 + "/lib64" }
        return homes + ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                        "/usr/local/cuda/targets/sbsa-linux/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                        "/usr/lib64", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib"]
    }

    var resolvedCacheDirectory: String {
        if let kernelCacheDirectory { return kernelCacheDirectory }
        let env = ProcessInfo.processInfo.environment
        if let dir = env["MEDLENS_CUDA_CACHE"] { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/medlens/cuda" }
        return (env["HOME"].map { $0 + "/.cache" } ?? NSTemporaryDirectory()) + "/medlens/cuda"
    }
}
