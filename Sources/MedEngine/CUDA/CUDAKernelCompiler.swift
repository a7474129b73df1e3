import CCUDA
import Crypto
import Foundation

/// NVRTC compilation of `CUDAKernel.source` for one device architecture, cached on disk: the file name holds a
/// SHA-256 of the source, the options and the NVRTC version, so a changed kernel or compiler never reuses a stale
/// image. A cache folder that cannot be written only costs a compilation per process.
struct CUDAKernelCompiler {
    let nvrtc: ccuda_nvrtc
    let cacheDirectory: String?

    struct Image {
        var bytes: [UInt8]
        /// false when read from the cache.
        var compiled: Bool
        var cacheFile: String?
        /// "sm_90" (machine code) or "compute_90" (PTX the driver compiles).
        var target: String
    }

    /// Machine code for the device's architecture when this NVRTC knows it; else PTX for the newest architecture it
    /// knows below it, which the driver compiles at load.
    func target(forArchitecture arch: Int) -> String {
        let supported = nvrtc.supportedArchitectures
        if supported.isEmpty || supported.contains(arch) { return "sm_\(arch)" }
        return "compute_\(supported.filter { $0 <= arch }.max() ?? supported.min()!)"
    }

    func options(target: String) -> [String] { ["--gpu-architecture=\(target)", "--std=c++17"] }

    func cacheKey(source: String, target: String) -> String {
        let text = [source, options(target: target).joined(separator: " "), nvrtc.version].joined(separator: "\u{0}")
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return "medlens-\(digest.prefix(32))-\(target)" + (target.hasPrefix("sm_") ? ".cubin" : ".ptx")
    }

    func image(source: String, architecture: Int) throws(CUDAError) -> Image {
        let target = target(forArchitecture: architecture)
        let file = cacheDirectory.map { $0 + "/" + cacheKey(source: source, target: target) }
        if let file, let data = FileManager.default.contents(atPath: file), !data.isEmpty {
            return Image(bytes: [UInt8](data), compiled: false, cacheFile: file, target: target)
        }
        let bytes = try compile(source: source, target: target)
        if let file, let dir = cacheDirectory { store(bytes, at: file, in: dir) }
        return Image(bytes: bytes, compiled: true, cacheFile: file, target: target)
    }

    /// Drops a cached image the driver refused (corrupt or from another driver), so that the next load recompiles.
    func forget(_ image: Image) {
        if let file = image.cacheFile { try? FileManager.default.removeItem(atPath: file) }
    }

    func compile(source: String, target: String) throws(CUDAError) -> [UInt8] {
        var program: nvrtcProgram?
        guard nvrtc.nvrtcCreateProgram!(&program, source, "medlens_kernels.cu", 0, nil, nil) == 0, let program else {
            throw .compilation("nvrtcCreateProgram failed")
        }
        defer { var p: nvrtcProgram? = program; _ = nvrtc.nvrtcDestroyProgram!(&p) }
        let opts = options(target: target)
        let cStrings = opts.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let result = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { list in
            nvrtc.nvrtcCompileProgram!(program, Int32(list.count), list.baseAddress)
        }
        guard result == 0 else {
            var size = 0
            _ = nvrtc.nvrtcGetProgramLogSize!(program, &size)
            var log = [CChar](repeating: 0, count: max(size, 1))
            _ = nvrtc.nvrtcGetProgramLog!(program, &log)
            let reason = nvrtc.nvrtcGetErrorString!(result).map { String(cString: $0) } ?? "error \(result)"
            throw .compilation("\(reason) for \(target): \(String(cString: log))")
        }
        var size = 0
        let machineCode = target.hasPrefix("sm_")
        _ = machineCode ? nvrtc.nvrtcGetCUBINSize!(program, &size) : nvrtc.nvrtcGetPTXSize!(program, &size)
        var bytes = [UInt8](repeating: 0, count: size)
        let copied = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: size) {
                machineCode ? nvrtc.nvrtcGetCUBIN!(program, $0) : nvrtc.nvrtcGetPTX!(program, $0)
            }
        }
        guard copied == 0, size > 0 else { throw .compilation("NVRTC returned no image for \(target)") }
        return bytes
    }

    /// Write to a temporary name, then rename: a reader never sees half a file, and concurrent writers agree.
    private func store(_ bytes: [UInt8], at file: String, in dir: String) {
        let fm = FileManager.default
        guard (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return }
        let temporary = file + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard fm.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        if rename(temporary, file) != 0 { try? fm.removeItem(atPath: temporary) }
    }
}
