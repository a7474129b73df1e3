import CKernels
import COpenBLAS
import Dispatch
import Foundation

/// The CPU backend: OpenBLAS sgemm for convolutions and linear layers, Swift loops over raw buffers and
/// Dispatch for the rest.
public struct CPUBackend: Backend {
    public var name: String { "cpu" }
    public init() { _ = Self.singleThreadedBLAS }

    /// One malloc arena for every thread (ck_memory.h): for a process whose workers each free large buffers, as
    /// the daemon's do (`medlens bench-daemon`, interleaved runs): the 35-slice series 7.1-8.4 s -> 4.8-5.6 s
    /// close-write to findings, the J2K radiograph's read stage 160-390 -> 100-160 ms. Not the default:
    /// medtrain's small-CNN loop, which allocates small tensors on several threads, measured 2700-3900 images/s
    /// with it against 3600-5450 without.
    public static func shareOneHeap() { ck_share_one_heap() }

    /// OpenBLAS runs single-threaded and the engine splits each GEMM across its own workers: two thread pools
    /// on two cores spin against each other (measured in research/engine-perf.md).
    private static let singleThreadedBLAS: Void = {
        openblas_set_num_threads(1)
        // Tensors past glibc's mmap threshold were mapped fresh on every allocation and their pages zeroed by
        // the kernel each time: 14 % of a ResNet-18 training step at batch 16 (clear_page). From the heap, and
        // not trimmed below 1 GB (that step's peak), the next step reuses them.
        ck_keep_freed_memory(1 << 30)
    }()

    /// How many cores the engine uses (default: all).
    public static func setThreads(_ n: Int) { Parallel.cores = max(1, n) }

    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition((transposeB ? b.shape[1] : b.shape[0]) == k, "matmul shapes \(a.shape) \(b.shape)")
        let c = Tensor.uninitialized([m, n])
        gemm(transposeA, transposeB, m, n, k, a.ptr, a.shape[1], b.ptr, b.shape[1], 0, c.ptr, n)
        return c
    }

    public func axpby(_ a: Tensor, alpha: Float, _ b: Tensor, beta: Float) -> Tensor {
        precondition(a.count == b.count, "shapes \(a.shape) and \(b.shape) differ")
        let out = Tensor.uninitialized(a.shape)
        let pa = a.ptr, pb = b.ptr, po = out.ptr
        Parallel.forEach(a.count) { r in
            let (x, y, z) = (pa + r.lowerBound, pb + r.lowerBound, po + r.lowerBound)
            for i in 0..<r.count { z[i] = alpha * x[i] + beta * y[i] }
        }
        return out
    }

    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.count == b.count)
        let out = Tensor.uninitialized(a.shape)
        let pa = a.ptr, pb = b.ptr, po = out.ptr
        Parallel.forEach(a.count) { r in
            let (x, y, z) = (pa + r.lowerBound, pb + r.lowerBound, po + r.lowerBound)
            for i in 0..<r.count { z[i] = x[i] * y[i] }
        }
        return out
    }

    public func addRowBias(_ x: Tensor, bias: Tensor) -> Tensor {
        let rows = x.shape[0], cols = x.count / rows
        let out = x.copy()
        let po = out.ptr, pb = bias.ptr
        for r in 0..<rows { for j in 0..<cols { po[r * cols + j] += pb[j] } }
        return out
    }

    public func sumRows(_ x: Tensor) -> Tensor {
        let rows = x.shape[0], cols = x.count / rows
        let out = Tensor(shape: [cols])
        let po = out.ptr, px = x.ptr
        for r in 0..<rows { for j in 0..<cols { po[j] += px[r * cols + j] } }
        return out
    }

    public func concatChannels(_ parts: [Tensor]) -> Tensor {
        let n = parts[0].shape[0], inner = parts[0].count / (n * parts[0].shape[1])
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        var shape = parts[0].shape
        shape[1] = total
        let out = Tensor.uninitialized(shape)
        for b in 0..<n {
            var offset = b * total * inner
            for p in parts {
                let len = p.shape[1] * inner
                (out.ptr + offset).update(from: p.ptr + b * len, count: len)
                offset += len
            }
        }
        return out
    }

    public func splitChannels(_ x: Tensor, sizes: [Int]) -> [Tensor] {
        let n = x.shape[0], total = x.shape[1], inner = x.count / (n * total)
        var start = 0
        return sizes.map { c in
            var shape = x.shape
            shape[1] = c
            let part = Tensor.uninitialized(shape)
            for b in 0..<n {
                (part.ptr + b * c * inner).update(from: x.ptr + (b * total + start) * inner, count: c * inner)
            }
            start += c
            return part
        }
    }
}

/// Row-major sgemm: C = op(A)·op(B) + beta·C. Large products are split by columns of C across the workers,
/// each calling single-threaded OpenBLAS on its slice.
func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    FLOPCounter.add(2 * Double(m) * Double(n) * Double(k))
    // Slices narrower than 64 columns waste the kernel's register blocking.
    let slices = min(Parallel.cores, n / 64)
    if slices <= 1 || m * n * k < 1 << 18 {
        sgemmSlice(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)
        return
    }
    WorkerPool.shared.run(parts: slices) { s in
        // Slice boundaries on multiples of 16 columns keep vector stores aligned.
        let lo = (n * s / slices) & ~15, hi = s == slices - 1 ? n : (n * (s + 1) / slices) & ~15
        sgemmSlice(ta, tb, m, hi - lo, k, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc)
    }
}

private func sgemmSlice(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
