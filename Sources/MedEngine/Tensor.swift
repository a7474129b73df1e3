import Foundation

/// 64-byte aligned Float32 buffer shared by tensors (and their reshaped views).
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    init(count: Int, zeroed: Bool = true) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        // Alignment lets the compiler and BLAS use aligned vector loads.
        posix_memalign(&raw, 64, max(count, 1) * MemoryLayout<Float>.stride)
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { free(pointer) }
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
        set { makeUnique(); storage.pointer[index] = newValue }
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
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(ptr[i] - other.ptr[i])) }
        return worst
    }
}
