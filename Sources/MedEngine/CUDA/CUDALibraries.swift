import CCUDA
import Foundation

/// The three libraries the backend opens, each under the sonames it is shipped as (newest first).
enum CUDALibrary: String, CaseIterable, Sendable {
    case driver, nvrtc, cublas

    var sonames: [String] {
        switch self {
        case .driver: return ["libcuda.so.1", "libcuda.so"]
        case .nvrtc: return ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"]
        case .cublas: return ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]
        }
    }

    /// How messages name it.
    var displayName: String { self == .driver ? "libcuda.so.1" : sonames.last! }

    /// Libraries the chosen file loads from its own folder, opened first so that a folder outside the linker's
    /// search path works: cuBLAS needs cuBLASLt, NVRTC its builtins.
    var siblingPrefix: String? {
        switch self {
        case .driver: return nil
        case .nvrtc: return "libnvrtc-builtins.so"
        case .cublas: return "libcublasLt.so"
        }
    }

    func explicitFile(_ config: CUDAConfiguration) -> String? {
        switch self {
        case .driver: return config.driverLibrary
        case .nvrtc: return config.nvrtcLibrary
        case .cublas: return config.cublasLibrary
        }
    }

    /// Files to try in order: the explicit one alone; else configured folders, the plain sonames (dlopen's own
    /// search), then the standard folders. Folder candidates are listed only when the file exists.
    func candidates(_ config: CUDAConfiguration) -> [String] {
        if let file = explicitFile(config) { return [file] }
        let inFolders = { (folders: [String]) in
            folders.flatMap { dir in self.sonames.map { dir + "/" + $0 } }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        var list = inFolders(config.libraryDirectories)
        if config.searchStandardLocations { list += sonames + inFolders(CUDAConfiguration.standardDirectories) }
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }
}

/// An opened library; never closed (the process keeps using the code it resolved).
struct OpenedLibrary: @unchecked Sendable {
    let path: String
    let handle: UnsafeMutableRawPointer

    static func open(_ library: CUDALibrary, _ config: CUDAConfiguration) throws(CUDAError) -> OpenedLibrary {
        var tried: [String] = []
        for candidate in library.candidates(config) {
            if candidate.contains("/"), let prefix = library.siblingPrefix { openSiblings(of: candidate, prefix: prefix) }
            var reason = [CChar](repeating: 0, count: 1024)
            if let handle = ccuda_open(candidate, 0, &reason, reason.count) {
                return OpenedLibrary(path: candidate, handle: handle)
            }
            tried.append(String(cString: reason))
        }
        if tried.isEmpty { tried = ["no candidate file (searching the standard places is switched off)"] }
        throw .libraryNotFound(library: library.displayName, tried: tried)
    }

    private static func openSiblings(of file: String, prefix: String) {
        let dir = (file as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in names.sorted() where name.hasPrefix(prefix) {
            _ = ccuda_open(dir + "/" + name, 1, nil, 0)
        }
    }
}

/// The resolved entry points of all three libraries.
struct CUDALibraries: @unchecked Sendable {
    let driver: ccuda_driver
    let nvrtc: ccuda_nvrtc
    let cublas: ccuda_cublas
    let paths: [CUDALibrary: String]

    static func load(_ config: CUDAConfiguration) throws(CUDAError) -> CUDALibraries {
        let (driver, driverPath) = try loadDriver(config)
        let (nvrtc, nvrtcPath) = try loadNVRTC(config)
        let (cublas, cublasPath) = try loadCUBLAS(config)
        return CUDALibraries(driver: driver, nvrtc: nvrtc, cublas: cublas,
                             paths: [.driver: driverPath, .nvrtc: nvrtcPath, .cublas: cublasPath])
    }

    static func loadDriver(_ config: CUDAConfiguration) throws(CUDAError) -> (ccuda_driver, String) {
        try resolve(.driver, config, ccuda_driver(), ccuda_load_driver)
    }

    static func loadNVRTC(_ config: CUDAConfiguration) throws(CUDAError) -> (ccuda_nvrtc, String) {
        try resolve(.nvrtc, config, ccuda_nvrtc(), ccuda_load_nvrtc)
    }

    static func loadCUBLAS(_ config: CUDAConfiguration) throws(CUDAError) -> (ccuda_cublas, String) {
        try resolve(.cublas, config, ccuda_cublas(), ccuda_load_cublas)
    }

    /// Opens the library and fills `api` with the C loader, which names the first symbol it cannot find.
    private static func resolve<API>(_ library: CUDALibrary, _ config: CUDAConfiguration, _ api: API,
                                     _ load: (UnsafeMutableRawPointer?, UnsafeMutablePointer<API>?) -> UnsafePointer<CChar>?)
        throws(CUDAError) -> (API, String) {
        let lib = try OpenedLibrary.open(library, config)
        var api = api
        if let missing = load(lib.handle, &api) {
            throw .symbolMissing(library: lib.path, symbol: String(cString: missing))
        }
        return (api, lib.path)
    }
}

extension ccuda_driver {
    /// Turns a driver result into a typed error.
    func check(_ result: CUresult, _ call: String) throws(CUDAError) {
        guard result != CUresult(CCUDA_SUCCESS) else { return }
        if result == CUresult(CCUDA_ERROR_OUT_OF_MEMORY) {
            throw .outOfMemory(requestedBytes: 0, freeBytes: 0, totalBytes: 0)
        }
        var text: UnsafePointer<CChar>?
        _ = cuGetErrorString!(result, &text)
        let message = text.map { String(cString: $0) } ?? "unknown error"
        if result == CUresult(CCUDA_ERROR_NO_DEVICE) { throw .noDevice(message) }
        throw .driver(call: call, code: result, message: message)
    }
}

extension ccuda_nvrtc {
    var version: String {
        var major: Int32 = 0, minor: Int32 = 0
        _ = nvrtcVersion!(&major, &minor)
        return "\(major).\(minor)"
    }

    /// The architectures this NVRTC can compile for (75 = sm_75 …).
    var supportedArchitectures: [Int] {
        var count: Int32 = 0
        guard nvrtcGetNumSupportedArchs!(&count) == 0, count > 0 else { return [] }
        var archs = [Int32](repeating: 0, count: Int(count))
        guard nvrtcGetSupportedArchs!(&archs) == 0 else { return [] }
        return archs.map(Int.init)
    }
}
