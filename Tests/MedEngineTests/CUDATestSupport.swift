import Foundation
import Testing
@testable import MedEngine

/// Where the CUDA tests find what they run on: the emulator library built beside this test bundle (real backend
/// code on emulated libcuda/libnvrtc/libcublas), a real libnvrtc (NVRTC compile test), a real GPU (parity tests).
enum CUDATestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// libMedLensCUDAEmulator.so from the same build as the tests.
    static let emulatorPath: String? = {
        let name = "libMedLensCUDAEmulator.so"
        let candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path,
                          repository.appendingPathComponent(".build/debug/" + name).path,
                          repository.appendingPathComponent(".build/release/" + name).path]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }()

    /// Why the emulator tests cannot run here, or nil.
    static var emulatorUnavailable: String? {
        guard let emulatorPath else { return "libMedLensCUDAEmulator.so is not built (swift build --build-tests builds it)" }
        guard let handle = dlopen(emulatorPath, RTLD_NOW), let symbol = dlsym(handle, "medlens_emulator_compiler") else {
            return "cannot load \(emulatorPath)"
        }
        let compiler = unsafeBitCast(symbol, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
        return compiler() == nil ? "no host C++ compiler for the emulated NVRTC (clang++, g++ or $MEDLENS_EMULATOR_CXX)" : nil
    }

    /// One kernel cache per test run: the first emulator backend compiles, the others load the cached module.
    static let cacheDirectory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cuda-tests-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func emulatorConfiguration(math: CUDAMath = .fp32, cache: String? = nil, workspaceBytes: Int = 1 << 30) -> CUDAConfiguration {
        CUDAConfiguration(driverLibrary: emulatorPath, nvrtcLibrary: emulatorPath, cublasLibrary: emulatorPath,
                          searchStandardLocations: false, math: math, kernelCacheDirectory: cache ?? cacheDirectory,
                          workspaceBytes: workspaceBytes)
    }

    /// Devices and memory the emulator reports (defaults: 1 device, 1 GiB).
    static func configureEmulator(devices: Int = 1, memoryBytes: UInt64 = 1 << 30) {
        guard let emulatorPath, let handle = dlopen(emulatorPath, RTLD_NOW),
              let symbol = dlsym(handle, "medlens_emulator_configure") else { return }
        unsafeBitCast(symbol, to: (@convention(c) (Int32, UInt64) -> Void).self)(Int32(devices), memoryBytes)
    }

    struct EmulatorStats {
        var launches: UInt64, compilations: UInt64, allocations: UInt64, bytesInUse: UInt64, gemms: UInt64
    }

    static func emulatorStats() -> EmulatorStats {
        var raw = [UInt64](repeating: 0, count: 5)
        if let emulatorPath, let handle = dlopen(emulatorPath, RTLD_NOW), let symbol = dlsym(handle, "medlens_emulator_get_stats") {
            raw.withUnsafeMutableBufferPointer {
                unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutableRawPointer) -> Void).self)(UnsafeMutableRawPointer($0.baseAddress!))
            }
        }
        return EmulatorStats(launches: raw[0], compilations: raw[1], allocations: raw[2], bytesInUse: raw[3], gemms: raw[4])
    }

    /// A real libnvrtc: $MEDLENS_NVRTC, the bootstrap's .venv-cuda, the torch venv's CUDA wheels, or the system's.
    static let nvrtcPath: String? = {
        if let chosen = ProcessInfo.processInfo.environment["MEDLENS_NVRTC"] {
            return FileManager.default.fileExists(atPath: chosen) ? chosen : nil
        }
        var candidates: [String] = []
        for venv in [".venv-cuda", ".venv-torch"] {
            let lib = repository.appendingPathComponent(venv + "/lib")
            for python in (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? [] {
                for sub in ["nvidia/cuda_nvrtc/lib", "nvidia/cu13/lib", "nvidia/cu12/lib"] {
                    let dir = lib.appendingPathComponent(python + "/site-packages/" + sub).path
                    candidates += CUDALibrary.nvrtc.sonames.map { dir + "/" + $0 }
                }
            }
        }
        candidates += CUDALibrary.nvrtc.candidates(CUDAConfiguration())
        return candidates.first { path in
            path.contains("/") ? FileManager.default.fileExists(atPath: path) : dlopen(path, RTLD_NOW) != nil
        }
    }()

    static var nvrtcUnavailable: String? {
        nvrtcPath == nil ? "no libnvrtc, so the kernels are not compiled by NVRTC here (run scripts/bootstrap.sh with PyPI reachable, or set MEDLENS_NVRTC)" : nil
    }

    static var gpuUnavailable: String? {
        if case .failure(let error) = realGPU { return "no GPU: \(error)" }
        return nil
    }

    /// The trait that skips a suite, saying why, when `reason` is set.
    static func enabled(unless reason: String?) -> ConditionTrait {
        .enabled(if: reason == nil, Comment(rawValue: reason ?? ""))
    }

    /// A backend on a real GPU, or why there is none.
    static let realGPU: Result<CUDABackend, CUDAError> = {
        Result { () throws(CUDAError) in try CUDABackend(configuration: .fromEnvironment()) }
    }()
}
