import Foundation

/// Reusable scratch buffers (im2col columns, packed gradients). Large fresh allocations are page-faulted in
/// on every convolution, which costs as much as a small GEMM; keeping a few buffers avoids that.
enum Workspace {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [TensorStorage] = []
    /// Buffers kept at most; concurrent callers (several models, tests) each take their own.
    private static let capacity = 8

    /// A buffer of at least `count` floats, returned by `body` to the pool afterwards. Contents are undefined.
    static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let storage = take(count)
        defer { give(storage) }
        return body(storage.pointer)
    }

    private static func take(_ count: Int) -> TensorStorage {
        lock.lock(); defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].count >= count }).min(by: { free[$0].count < free[$1].count }) {
            return free.remove(at: i)
        }
        return TensorStorage(count: count, zeroed: false)
    }

    private static func give(_ storage: TensorStorage) {
        lock.lock(); defer { lock.unlock() }
        free.append(storage)
        if free.count > capacity { free.remove(at: free.indices.min { free[$0].count < free[$1].count }!) }
    }
}
