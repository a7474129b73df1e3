import CCUDA
import Foundation

/// The `backend` setting: `auto` uses CUDA when a device is usable and the CPU otherwise.
public enum BackendPreference: String, CaseIterable, Sendable, Codable {
    case auto, cpu, cuda
}

/// The backend chosen for a preference, with the line the daemon logs about it.
public struct BackendSelection: @unchecked Sendable {
    public let preference: BackendPreference
    public let backend: any Backend
    /// Why: "cuda: NVIDIA H200, … (backend = auto)" or "cpu: CUDA not used: libcuda.so.1 not found; … (backend = auto)".
    public let reason: String

    /// `cuda` fails with the reason CUDA cannot be used; `auto` then falls back to the CPU, saying why.
    public static func select(_ preference: BackendPreference, cuda configuration: CUDAConfiguration = .fromEnvironment())
        throws(CUDAError) -> BackendSelection {
        let setting = "(backend = \(preference.rawValue))"
        switch preference {
        case .cpu:
            return BackendSelection(preference: preference, backend: CPUBackend(), reason: "cpu: \(cpuSummary) \(setting)")
        case .cuda:
            let cuda = try CUDABackend(configuration: configuration)
            return BackendSelection(preference: preference, backend: cuda, reason: "cuda: \(cuda.summary) \(setting)")
        case .auto:
            do {
                let cuda = try CUDABackend(configuration: configuration)
                return BackendSelection(preference: preference, backend: cuda, reason: "cuda: \(cuda.summary) \(setting)")
            } catch {
                return BackendSelection(preference: preference, backend: CPUBackend(),
                                        reason: "cpu: CUDA not used: \(error) \(setting)")
            }
        }
    }

    public static var cpuSummary: String { "OpenBLAS, \(Parallel.cores) threads" }
}

/// What is installed, library by library, and whether a device is usable: `medlens backends` prints it. Unlike
/// opening the backend it goes on after a failure, so that it reports everything missing at once.
public struct CUDAStatus: Sendable, Codable, Equatable {
    public struct Library: Sendable, Codable, Equatable {
        public var name: String
        /// The file opened, or nil.
        public var path: String?
        /// A version, or why it could not be opened.
        public var detail: String
    }

    public struct Device: Sendable, Codable, Equatable {
        public var name: String
        public var computeCapability: String
        public var memoryBytes: Int
    }

    public var libraries: [Library]
    public var devices: [Device]
    /// The first reason the backend cannot run, nil when it can be opened.
    public var problem: String?

    public static func probe(_ configuration: CUDAConfiguration = .fromEnvironment()) -> CUDAStatus {
        var libraries: [Library] = [], devices: [Device] = [], problems: [String] = []
        do {
            let (driver, path) = try CUDALibraries.loadDriver(configuration)
            var version: Int32 = 0
            _ = driver.cuDriverGetVersion!(&version)
            libraries.append(Library(name: "driver", path: path, detail: "CUDA \(version / 1000).\(version % 1000 / 10)"))
            do { devices = try listDevices(driver) } catch { problems.append("\(error)") }
            if devices.isEmpty && problems.isEmpty { problems.append("\(CUDAError.noDevice("the driver reports none"))") }
        } catch {
            libraries.append(Library(name: "driver", path: nil, detail: "\(error)"))
            problems.append("\(error)")
        }
        do {
            let (nvrtc, path) = try CUDALibraries.loadNVRTC(configuration)
            let archs = nvrtc.supportedArchitectures.map { "sm_\($0)" }.joined(separator: " ")
            libraries.append(Library(name: "nvrtc", path: path, detail: "NVRTC \(nvrtc.version); \(archs)"))
        } catch {
            libraries.append(Library(name: "nvrtc", path: nil, detail: "\(error)"))
            problems.append("\(error)")
        }
        do {
            let (_, path) = try CUDALibraries.loadCUBLAS(configuration)
            libraries.append(Library(name: "cublas", path: path, detail: "loaded"))
        } catch {
            libraries.append(Library(name: "cublas", path: nil, detail: "\(error)"))
            problems.append("\(error)")
        }
        return CUDAStatus(libraries: libraries, devices: devices, problem: problems.first)
    }

    private static func listDevices(_ d: ccuda_driver) throws(CUDAError) -> [Device] {
        try d.check(d.cuInit!(0), "cuInit")
        var count: Int32 = 0
        try d.check(d.cuDeviceGetCount!(&count), "cuDeviceGetCount")
        var list: [Device] = []
        for ordinal in 0..<Int32(count) {
            var device: CUdevice = 0
            try d.check(d.cuDeviceGet!(&device, ordinal), "cuDeviceGet")
            var name = [CChar](repeating: 0, count: 256)
            try d.check(d.cuDeviceGetName!(&name, Int32(name.count), device), "cuDeviceGetName")
            var major: Int32 = 0, minor: Int32 = 0, memory = 0
            try d.check(d.cuDeviceGetAttribute!(&major, Int32(CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR), device), "cuDeviceGetAttribute")
            try d.check(d.cuDeviceGetAttribute!(&minor, Int32(CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), device), "cuDeviceGetAttribute")
            try d.check(d.cuDeviceTotalMem!(&memory, device), "cuDeviceTotalMem")
            list.append(Device(name: String(cString: name), computeCapability: "\(major).\(minor)", memoryBytes: memory))
        }
        return list
    }
}
