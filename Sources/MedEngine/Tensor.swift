import Foundation
import Synchronization

/// A copy of a storage's values in a device's memory, made and owned by a device backend (CUDABackend).
/// Freeing the object frees (or pools) the device memory.
protocol DeviceMirror: AnyObject, Sendable {
    /// Copies the current device values into `host` (`count` floats), after the device work that writes them.
    func copyToHost(_ host: UnsafeMutablePointer<Float>, count: Int)
}

/// 64-byte aligned Float32 buffer shared by tensors (and their reshaped views).
///
/// The values live in host memory, in a device backend's memory (`DeviceMirror`), or in both. Host storage made
/// by the CPU is allocated at once; storage made by a device backend gets host memory the first time `pointer`
/// is read, which copies the values back. Writing through the host pointer of a storage that has a device copy
/// is not allowed (kernels write only fresh outputs); `Tensor`'s mutating accessors drop the device copy first.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    private var host: UnsafeMutablePointer<Float>?
    private var mirror: (any DeviceMirror)?
    /// Set once the host buffer holds the current values; read without the lock on the CPU's hot path.
    private let hostCurrent: Atomic<Bool>
    /// Whether `mirror` is set, so that host writes to CPU-only storage skip the lock.
    private let hasMirror: Atomic<Bool>
    /// Serialises the slow paths: copying back, attaching and dropping device copies. One lock for all device
    /// work (the CUDA backend takes it too), recursive because a copy back may start inside a backend call.
    static let deviceLock = NSRecursiveLock()

    init(count: Int, zeroed: Bool = true) {
        self.count = count
        host = Self.allocateHost(count)
        hostCurrent = Atomic(true)
        hasMirror = Atomic(false)
        if zeroed { host!.initialize(repeating: 0, count: count) }
    }

    /// Storage whose values exist only on a device until the host asks for them.
    init(count: Int, device: any DeviceMirror) {
        self.count = count
        mirror = device
        hostCurrent = Atomic(false)
        hasMirror = Atomic(true)
    }

    private static func allocateHost(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        // Alignment lets the compiler and BLAS use aligned vector loads.
        posix_memalign(&raw, 64, max(count, 1) * MemoryLayout<Float>.stride)
        return raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { free(host) }

    /// The host values, copied back from the device first if only the device holds them.
    public var pointer: UnsafeMutablePointer<Float> {
        if hostCurrent.load(ordering: .acquiring) { return host.unsafelyUnwrapped }
        return copyBack()
    }

    private func copyBack() -> UnsafeMutablePointer<Float> {
        Self.deviceLock.lock(); defer { Self.deviceLock.unlock() }
        if hostCurrent.load(ordering: .acquiring) { return host! }
        let buffer = host ?? Self.allocateHost(count)
        host = buffer
        mirror!.copyToHost(buffer, count: count)
        hostCurrent.store(true, ordering: .releasing)
        return buffer
    }

    /// The device copy, if there is one (both copies are then current).
    var deviceMirror: (any DeviceMirror)? {
        Self.deviceLock.lock(); defer { Self.deviceLock.unlock() }
        return mirror
    }

    /// Keeps `device` as a copy of the (current) host values: later device reads skip the upload.
    func attach(_ device: any DeviceMirror) {
        Self.deviceLock.lock(); defer { Self.deviceLock.unlock() }
        precondition(hostCurrent.load(ordering: .acquiring), "attach a device copy only to current host values")
        mirror = device
        hasMirror.store(true, ordering: .releasing)
    }

    /// Before the host values are written: the device copy would be stale.
    func dropDeviceCopy() {
        guard hasMirror.load(ordering: .acquiring) else { return }
        _ = pointer
        Self.deviceLock.lock(); defer { Self.deviceLock.unlock() }
        mirror = nil
        hasMirror.store(false, ordering: .releasing)
    }
}

/// A dense, contiguous Float32 tensor in PyTorch layout (row-major; NCHW / NCDHW for images).
/// Value semantics: copies share storage until one of them is written (copy on write).
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    var storage: TensorStorage

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *), zeroed: value == 0)
        if value != 0 { storage.pointer.initialize(repeating: value, count: storage.count) }
    }

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        storage = TensorStorage(count: data.count, zeroed: false)
        data.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: data.count) }
    }

    /// Uninitialised storage for kernels that write every element.
    static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: shape.reduce(1, *), zeroed: false))
    }

    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
        set { makeUnique(); storage.dropDeviceCopy(); storage.pointer[index] = newValue }
    }

    /// A view with a new shape over the same values (one dimension may be -1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let unknown = dims.firstIndex(of: -1) {
            dims[unknown] = count / max(1, dims.filter { $0 != -1 }.reduce(1, *))
        }
        precondition(dims.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: dims, storage: storage)
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: storage.count, zeroed: false)
            copy.pointer.update(from: storage.pointer, count: storage.count)
            storage = copy
        }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        storage.dropDeviceCopy()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Read-only pointer for kernels; callers must not write through it.
    var ptr: UnsafeMutablePointer<Float> { storage.pointer }

    public func copy() -> Tensor {
        let out = Tensor.uninitialized(shape)
        out.ptr.update(from: ptr, count: count)
        return out
    }
}

extension Tensor {
    /// Largest absolute difference, for tests and parity reports.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(count == other.count)
        let a = ptr, b = other.ptr
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(a[i] - b[i])) }
        return worst
    }
}
