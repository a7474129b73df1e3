import Foundation

/// Why CUDA cannot be used, or why a device operation failed. `outOfMemory` is the one a caller recovers from
/// (run the job on the CPU, or with a smaller batch); the others say why the backend is unavailable.
public enum CUDAError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file of the library could be opened; `tried` lists each candidate with dlopen's reason.
    case libraryNotFound(library: String, tried: [String])
    case symbolMissing(library: String, symbol: String)
    case noDevice(String)
    case driver(call: String, code: Int32, message: String)
    case compilation(String)
    case cublas(call: String, status: Int32)
    case outOfMemory(requestedBytes: Int, freeBytes: Int, totalBytes: Int)
    /// Every later operation of a backend that hit a non-recoverable error runs on the CPU; this names that error.
    case disabled(String)

    /// dlerror's "file: reason" lines, files with the same reason listed together.
    static func grouped(_ tried: [String]) -> String {
        var order: [String] = [], files: [String: [String]] = [:]
        for line in tried {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let (file, reason) = parts.count == 2 ? (parts[0], parts[1]) : (line, "")
            if files[reason] == nil { order.append(reason) }
            files[reason, default: []].append(file)
        }
        return order.map { reason in files[reason]!.joined(separator: ", ") + (reason.isEmpty ? "" : " (\(reason))") }
            .joined(separator: "; ")
    }

    public var description: String {
        switch self {
        case let .libraryNotFound(library, tried):
            let hint = library.hasPrefix("libcuda") ? " (no NVIDIA driver installed?)" : ""
            return "\(library) not found\(hint); tried \(Self.grouped(tried))"
        case let .symbolMissing(library, symbol): return "\(library) lacks \(symbol) (too old?)"
        case let .noDevice(reason): return "no CUDA device: \(reason)"
        case let .driver(call, code, message): return "\(call) failed: \(message) (CUDA error \(code))"
        case let .compilation(log): return "NVRTC could not compile the kernels: \(log)"
        case let .cublas(call, status): return "\(call) failed (cuBLAS status \(status))"
        case let .outOfMemory(requested, free, total):
            let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
            return "CUDA out of memory: \(mib(requested)) requested, \(mib(free)) free of \(mib(total))"
        case let .disabled(reason): return "CUDA backend disabled after an error: \(reason)"
        }
    }
}
