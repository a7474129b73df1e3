import CCUDA
import Foundation

/// The engine on an NVIDIA GPU: cuBLAS for the matrix products, NVRTC-compiled kernels for the rest, tensors kept
/// in device memory between operations (a tensor's host values are copied back when the host reads them).
///
/// An operation the device cannot do (out of memory even after the pool released its cache, or any operation once
/// the backend hit an unrecoverable error) runs on the CPU instead, so a call never fails or crashes; `run` turns
/// that into a typed error the caller can act on (send the job to the CPU, use a smaller batch).
public final class CUDABackend: Backend, @unchecked Sendable {
    public var name: String { "cuda" }
    public let configuration: CUDAConfiguration
    let device: CUDADevice
    let cpu = CPUBackend()
    private var failure: CUDAError?
    private var fallbackCount = 0

    /// Opens the device and loads the kernels (compiled by NVRTC on first use, then from the cache).
    public init(configuration: CUDAConfiguration = .fromEnvironment()) throws(CUDAError) {
        self.configuration = configuration
        let lib = try CUDALibraries.load(configuration)
        TensorStorage.deviceLock.lock(); defer { TensorStorage.deviceLock.unlock() }
        device = try CUDADevice.open(lib, configuration)
    }

    /// What `medlens backends` and the daemon's log line print.
    public struct Info: Sendable, Codable, Equatable {
        public var device: String
        public var computeCapability: String
        public var multiprocessors: Int
        public var memoryBytes: Int
        public var driverVersion: String
        public var math: CUDAMath
        public var libraries: [String: String]
        /// "compiled sm_90" or "cached sm_90" and the cache file.
        public var kernels: String
    }

    public var info: Info {
        let image = device.kernelImage
        return Info(device: device.name, computeCapability: "\(device.architecture / 10).\(device.architecture % 10)",
                    multiprocessors: device.multiprocessors, memoryBytes: device.totalMemory,
                    driverVersion: "\(device.driverVersion / 1000).\(device.driverVersion % 1000 / 10)",
                    math: configuration.math,
                    libraries: Dictionary(uniqueKeysWithValues: device.lib.paths.map { ($0.key.rawValue, $0.value) }),
                    kernels: (image.compiled ? "compiled " : "cached ") + image.target + (image.cacheFile.map { " (\($0))" } ?? ""))
    }

    /// One line for a log.
    public var summary: String {
        let i = info
        return "\(i.device), compute capability \(i.computeCapability), \(i.memoryBytes >> 20) MiB, driver \(i.driverVersion), \(i.math.rawValue) matrix products"
    }

    public struct MemoryStatistics: Sendable, Equatable {
        /// Held by live tensors and scratch buffers.
        public var inUseBytes: Int
        /// Freed blocks the pool keeps for reuse.
        public var cachedBytes: Int
        public var peakInUseBytes: Int
        public var freeBytes: Int
        public var totalBytes: Int
    }

    public var memory: MemoryStatistics {
        locked {
            try? device.makeCurrent()
            let (free, total) = device.memoryInfo()
            return MemoryStatistics(inUseBytes: device.bytesInUse, cachedBytes: device.bytesCached,
                                    peakInUseBytes: device.peakBytesInUse, freeBytes: free, totalBytes: total)
        }
    }

    /// Gives the pool's cached blocks back to the driver (other processes can use them).
    public func releaseCachedMemory() {
        locked {
            try? device.makeCurrent()
            device.releaseCache()
        }
    }

    /// The largest batch, up to `limit`, whose device memory fits `fraction` of what is free (the pool's cache
    /// counted as free): peak memory is measured for batches of 2 and 4 and extrapolated linearly, which
    /// overestimates (chunked convolutions grow slower than the batch), so the answer errs small.
    public func fittingBatchSize(model: any Model, sampleShape: [Int], training: Bool, limit: Int, fraction: Double = 0.8) -> Int {
        let peak = { (batch: Int) -> Int in
            var rng = SeededRandom(seed: 1)
            let x = rng.tensor([batch] + sampleShape)
            self.resetPeakMemory()
            let start = self.memory.inUseBytes
            Engine.withBackend(self) {
                if training {
                    let logits = model.forward(Variable(x), ForwardContext(training: true))
                    Functional.bceWithLogits(logits, targets: Tensor(shape: logits.shape)).backward()
                    model.zeroGradients()
                } else {
                    _ = model.predict(x)
                }
                self.synchronize()
            }
            return self.memory.peakInUseBytes - start
        }
        _ = peak(1)  // parameters uploaded and kept: not part of what a batch costs
        let two = peak(2), four = peak(4)
        let perSample = max(1, (four - two) / 2), fixed = max(0, two - 2 * perSample)
        let stats = memory
        let available = Int(Double(stats.freeBytes + stats.cachedBytes) * fraction) - fixed
        return max(1, min(limit, available / perSample))
    }

    /// Starts a new peak for `memory.peakInUseBytes`.
    public func resetPeakMemory() { locked { device.resetPeak() } }

    /// A self-check of out-of-memory handling on this device (`medlens backends --check` runs it): fills the
    /// device with blocks until the driver refuses one, then frees them. Passes when the refusal is the typed
    /// `.outOfMemory` after the pool released its cache, and the device computes normally afterwards.
    public func checkOutOfMemoryRecovery() -> (passed: Bool, detail: String) {
        var held: [CUDABuffer] = [], refusal: CUDAError?
        locked {
            guard (try? device.makeCurrent()) != nil else { return }
            let block = max(1 << 20, min(device.memoryInfo().free / 8, 4 << 30))
            for _ in 0..<4096 {
                do throws(CUDAError) { held.append(try device.allocate(bytes: block)) } catch {
                    refusal = error
                    break
                }
            }
        }
        let filled = held.reduce(0) { $0 + $1.blockBytes }
        held.removeAll()
        releaseCachedMemory()
        let before = fallbacks
        var rng = SeededRandom(seed: 1)
        let x = rng.tensor([1024]), y = axpby(x, alpha: 2, x, beta: -1)
        let recovered = fallbacks == before && BackendParity.relativeError(y, x) == 0
        let gib = String(format: "%.1f GiB", Double(filled) / Double(1 << 30))
        guard case .outOfMemory = refusal else {
            return (false, "filled \(gib) without a typed out-of-memory refusal (\(refusal.map { "\($0)" } ?? "none"))")
        }
        return (recovered, "refused after \(gib) with \"\(refusal!)\"; " + (recovered ? "computes normally after freeing" : "still failing after freeing"))
    }

    /// Operations that ran on the CPU because the device could not run them.
    public var fallbacks: Int { locked { fallbackCount } }

    public func synchronize() {
        guarded("synchronize", { () throws(CUDAError) in try device.synchronize() }, cpu: {})
    }

    /// Runs `body` (inference, a training step, Grad-CAM) on this device. When an operation on the way had to run
    /// on the CPU, the rest of the body runs there too and this throws that operation's `CUDAError` (usually
    /// `.outOfMemory`) instead of returning: the caller decides whether to rerun on the CPU or with less.
    public func run<R>(_ body: () throws -> R) throws -> R {
        let record = FallbackRecord()
        let result = try Self.$currentRecord.withValue(record) { try Engine.withBackend(self) { try body() } }
        if let error = record.error { throw error }
        return result
    }

    final class FallbackRecord: @unchecked Sendable {
        var error: CUDAError?
    }

    @TaskLocal static var currentRecord: FallbackRecord?

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        TensorStorage.deviceLock.lock(); defer { TensorStorage.deviceLock.unlock() }
        return try body()
    }

    /// Runs `work` on the device, or `fallback` on the CPU where the device cannot (see the type's comment).
    func guarded<R>(_ operation: String, _ work: () throws(CUDAError) -> R, cpu fallback: () -> R) -> R {
        let record = Self.currentRecord
        if record?.error != nil {
            locked { fallbackCount += 1 }
        } else if let result = attempt(operation, work, record) {
            return result
        }
        return fallback()
    }

    private func attempt<R>(_ operation: String, _ work: () throws(CUDAError) -> R, _ record: FallbackRecord?) -> R? {
        TensorStorage.deviceLock.lock(); defer { TensorStorage.deviceLock.unlock() }
        let error: CUDAError
        if let failure {
            error = failure
        } else {
            do {
                try device.makeCurrent()
                return try work()
            } catch let e {
                if case .outOfMemory = e { error = e } else {
                    error = .disabled("\(operation): \(e)")
                    failure = error
                }
            }
        }
        fallbackCount += 1
        if record?.error == nil { record?.error = error }
        return nil
    }

    // MARK: tensors on the device

    /// The device address of a tensor's values, uploading them (and keeping the copy) when the device has none.
    func address(_ t: Tensor) throws(CUDAError) -> CUdeviceptr {
        if let buffer = t.storage.deviceMirror as? CUDABuffer, buffer.device === device { return buffer.address }
        try Self.checkSize(t.count)
        let host = t.storage.pointer
        let buffer = try device.allocate(bytes: t.storage.count * MemoryLayout<Float>.stride)
        try device.upload(host, to: buffer.address, bytes: t.storage.count * MemoryLayout<Float>.stride)
        t.storage.attach(buffer)
        return buffer.address
    }

    func address(_ t: Tensor?) throws(CUDAError) -> CUdeviceptr? {
        guard let t else { return nil }
        return try address(t)
    }

    /// A tensor whose values live on the device; the kernel writing it must write every element.
    func output(_ shape: [Int]) throws(CUDAError) -> (Tensor, CUdeviceptr) {
        let count = shape.reduce(1, *)
        try Self.checkSize(count)
        let buffer = try device.allocate(bytes: count * MemoryLayout<Float>.stride)
        return (Tensor(shape: shape, storage: TensorStorage(count: count, device: buffer)), buffer.address)
    }

    func zeros(_ shape: [Int]) throws(CUDAError) -> (Tensor, CUdeviceptr) {
        let (t, p) = try output(shape)
        try device.zero(p, words: t.count)
        return (t, p)
    }

    /// Scratch memory for `count` elements of 4 bytes (8 with `doubles`), returned to the pool when released.
    func scratch(_ count: Int, doubles: Bool = false) throws(CUDAError) -> CUDABuffer {
        try device.allocate(bytes: count * (doubles ? 8 : 4))
    }

    /// Kernels index with 32-bit integers: a larger tensor does not fit this backend, like one beyond its memory.
    static func checkSize(_ count: Int) throws(CUDAError) {
        guard count < Int(Int32.max) - (1 << 24) else {
            throw .outOfMemory(requestedBytes: count * 4, freeBytes: 0, totalBytes: 0)
        }
    }
}

extension CUdeviceptr {
    /// The address `floats` 4-byte elements further on.
    func advanced(floats: Int) -> CUdeviceptr { self + CUdeviceptr(floats * 4) }
}
