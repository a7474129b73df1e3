import Foundation
import Testing
@testable import MedEngine

/// `backend = auto | cpu | cuda` and the library search, for real on this machine (no NVIDIA driver here) and
/// against folders the tests control.
struct CUDASelectionTests {
    static let driverInstalled = dlopen("libcuda.so.1", RTLD_NOW) != nil

    @Test func autoFallsBackToTheCPUWithTheReasonWhenThereIsNoDriver() throws {
        if Self.driverInstalled { try Test.cancel("skipped: this machine has libcuda.so.1 (the emulator tests cover auto -> cuda)") }
        // The default configuration: the standard search, as the daemon runs it.
        let selection = try BackendSelection.select(.auto, cuda: CUDAConfiguration())
        #expect(selection.backend is CPUBackend)
        #expect(selection.reason.hasPrefix("cpu: CUDA not used: libcuda.so.1 not found"), "\(selection.reason)")
        #expect(selection.reason.hasSuffix("(backend = auto)"))
        print("selection: \(selection.reason)")
        #expect(throws: CUDAError.self) { try BackendSelection.select(.cuda, cuda: CUDAConfiguration()) }
        do {
            _ = try BackendSelection.select(.cuda, cuda: CUDAConfiguration())
        } catch {
            guard case let .libraryNotFound(library, tried) = error else { Issue.record("\(error)"); return }
            #expect(library == "libcuda.so.1")
            #expect(tried.contains { $0.contains("libcuda.so.1") })
        }
        let status = CUDAStatus.probe(CUDAConfiguration())
        #expect(status.problem?.hasPrefix("libcuda.so.1 not found") == true, "\(status.problem ?? "none")")
        #expect(status.libraries.map(\.name) == ["driver", "nvrtc", "cublas"])
        #expect(status.libraries[0].path == nil && status.devices.isEmpty)
    }

    @Test func cpuIsAlwaysAvailable() throws {
        let selection = try BackendSelection.select(.cpu, cuda: CUDAConfiguration(searchStandardLocations: false))
        #expect(selection.backend is CPUBackend)
        #expect(selection.reason.hasPrefix("cpu: OpenBLAS, ") && selection.reason.hasSuffix("(backend = cpu)"), "\(selection.reason)")
    }

    @Test func configuredFoldersAreSearchedFirstAndEveryFailureIsReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cuda-libs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Not a shared object: found by the search, refused by dlopen, and the refusal is in the message.
        try Data("not an ELF file".utf8).write(to: dir.appendingPathComponent("libcuda.so.1"))
        let config = CUDAConfiguration(libraryDirectories: [dir.path])
        let candidates = CUDALibrary.driver.candidates(config)
        #expect(candidates.first == dir.path + "/libcuda.so.1")
        #expect(candidates.contains("libcuda.so.1"), "the plain soname follows the configured folders")
        let selection = try BackendSelection.select(.auto, cuda: config)
        #expect(selection.backend is CPUBackend)
        #expect(selection.reason.contains(dir.path + "/libcuda.so.1"), "\(selection.reason)")
        // Without the standard places only the configured folder is tried.
        let only = CUDAConfiguration(libraryDirectories: [dir.path], searchStandardLocations: false)
        #expect(CUDALibrary.driver.candidates(only) == [dir.path + "/libcuda.so.1"])
        #expect(CUDALibrary.nvrtc.candidates(only).isEmpty)
        let explicit = CUDAConfiguration(libraryDirectories: [dir.path], driverLibrary: "/nonexistent/libcuda.so.1")
        #expect(CUDALibrary.driver.candidates(explicit) == ["/nonexistent/libcuda.so.1"])
        #expect {
            _ = try CUDABackend(configuration: explicit)
        } throws: { error in
            guard case let .libraryNotFound(_, tried) = error as? CUDAError else { return false }
            return tried.count == 1 && tried[0].contains("/nonexistent/libcuda.so.1")
        }
    }

    @Test func environmentConfiguresLocationsDeviceMathAndCache() {
        let config = CUDAConfiguration.fromEnvironment(["MEDLENS_CUDA_LIBRARY_PATH": "/opt/a/lib:/opt/b/lib", "MEDLENS_CUDA_DEVICE": "1",
                                                        "MEDLENS_CUDA_MATH": "tf32", "MEDLENS_CUDA_CACHE": "/var/cache/k"])
        #expect(config.libraryDirectories == ["/opt/a/lib", "/opt/b/lib"])
        #expect(config.deviceOrdinal == 1 && config.math == .tf32 && config.kernelCacheDirectory == "/var/cache/k")
        #expect(config.resolvedCacheDirectory == "/var/cache/k")
        let defaults = CUDAConfiguration.fromEnvironment([:])
        #expect(defaults == CUDAConfiguration())
        #expect(CUDAConfiguration.fromEnvironment(["MEDLENS_CUDA_MATH": "fp64"]).math == .fp32, "unknown modes keep the default")
    }

    /// NVRTC found (the torch venv's or the bootstrap's) while the driver is missing: the probe reports each library.
    @Test func probeReportsEachLibrary() throws {
        guard let nvrtc = CUDATestSupport.nvrtcPath else { try Test.cancel("skipped: no libnvrtc here") }
        if Self.driverInstalled { try Test.cancel("skipped: this machine has libcuda.so.1") }
        let status = CUDAStatus.probe(CUDAConfiguration(nvrtcLibrary: nvrtc))
        #expect(status.libraries[1].path == nvrtc)
        #expect(status.libraries[1].detail.hasPrefix("NVRTC "), "\(status.libraries[1].detail)")
        #expect(status.problem?.contains("libcuda.so.1") == true)
    }
}

/// Selection with the emulator standing in for an installed driver: auto picks CUDA, and a driver without a
/// device falls back with that reason.
extension CUDAEmulatorTests {
    @Test func autoPicksCUDAWhenADeviceIsPresent() throws {
        _ = try Self.backend()
        let selection = try BackendSelection.select(.auto, cuda: CUDATestSupport.emulatorConfiguration())
        #expect(selection.backend is CUDABackend)
        #expect(selection.reason.hasPrefix("cuda: MedLens CUDA emulator, compute capability 9.0"), "\(selection.reason)")
        let status = CUDAStatus.probe(CUDATestSupport.emulatorConfiguration())
        #expect(status.problem == nil && status.devices.map(\.name) == ["MedLens CUDA emulator"])

        CUDATestSupport.configureEmulator(devices: 0)
        defer { CUDATestSupport.configureEmulator() }
        let none = try BackendSelection.select(.auto, cuda: CUDATestSupport.emulatorConfiguration())
        #expect(none.backend is CPUBackend)
        #expect(none.reason.hasPrefix("cpu: CUDA not used: no CUDA device"), "\(none.reason)")
        #expect(CUDAStatus.probe(CUDATestSupport.emulatorConfiguration()).problem?.hasPrefix("no CUDA device") == true)
        #expect(throws: CUDAError.self) { try BackendSelection.select(.cuda, cuda: CUDATestSupport.emulatorConfiguration()) }
    }
}
