import CKernels
import Foundation

/// The bridge to CKernels, the engine's C SIMD kernels (AVX2 or AVX-512, picked at run time).
enum CPUKernels {
    /// The instruction set the kernels use: the best this CPU has, or a lower one named by `MEDENGINE_ISA`
    /// (`avx512`, `avx2`, `none`). With none, convolutions take im2col + sgemm and pooling a scalar loop.
    static let isa: ck_isa = {
        let best = ck_best_isa()
        let asked: ck_isa? = switch ProcessInfo.processInfo.environment["MEDENGINE_ISA"]?.lowercased() {
        case "none": CK_ISA_NONE
        case "avx2": CK_ISA_AVX2
        case "avx512": CK_ISA_AVX512
        default: nil
        }
        return asked.map { $0.rawValue < best.rawValue ? $0 : best } ?? best
    }()

    /// Instruction sets this machine can run, for tests.
    static var available: [ck_isa] {
        [CK_ISA_NONE, CK_ISA_AVX2, CK_ISA_AVX512].filter { $0.rawValue <= ck_best_isa().rawValue }
    }

    static func window(_ g: WindowGeometry, input: [Int], output: [Int]) -> ck_window {
        ck_window(input: triple(input), output: triple(output), kernel: triple(g.kernel), stride: triple(g.stride),
                  padding: triple(g.padding), dilation: triple(g.dilation))
    }

    /// Forward convolution on the SIMD kernels, bias and ReLU applied as each tile is stored: Winograd
    /// F(2x2, 3x3) for 3x3 (x3) stride-1 "same" convolutions on images wide enough (see ck_winograd.h; unless `winograd` is
    /// false), the direct kernel otherwise. Nil when neither covers the shape or the CPU has no AVX2 (then
    /// im2col + sgemm).
    /// `transient` weights (made for this call only, as backward passes do) are not cached.
    static func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, plan p: ConvPlan, fuseReLU: Bool,
                            outShape: [Int], isa: ck_isa = isa, winograd: Bool = true, transient: Bool = false) -> Tensor? {
        guard isa != CK_ISA_NONE else { return nil }
        let g = p.g
        var shape = ck_conv_shape()
        shape.batch = Int32(p.n); shape.in_channels = Int32(p.inC); shape.out_channels = Int32(p.outC)
        shape.groups = Int32(p.groups)
        shape.input = triple(p.inSize); shape.output = triple(p.outSize)
        shape.kernel = triple(g.kernel); shape.stride = triple(g.stride)
        shape.padding = triple(g.padding); shape.dilation = triple(g.dilation)
        let parts = Parallel.cores
        var wino = ck_winograd_plan()
        if winograd, ck_winograd_plan_init(&wino, &shape, isa, Int32(parts)) != 0 {
            let out = Tensor.uninitialized(outShape)
            // Counted as the direct convolution's multiply-adds, so GFLOP/s compare across paths.
            FLOPCounter.add(2 * Double(p.n * p.outC * p.outPlane) * Double(p.rows))
            let u = WinogradWeights.shared.transformed(weight, plan: wino, cache: !transient)
            withUnsafePointer(to: &wino) { plan in
                var next = 0
                withUnsafeMutablePointer(to: &next) { next in
                    Parallel.parts(cost: p.n * p.outC * p.outPlane * p.rows) { _, _ in
                        ck_winograd_run(plan, x.ptr, u.pointer, bias.map { UnsafePointer($0.ptr) }, fuseReLU ? 1 : 0,
                                        out.ptr, next)
                    }
                }
            }
            return out
        }
        var plan = ck_conv_plan()
        guard ck_conv_plan_init(&plan, &shape, isa, Int32(parts)) != 0 else { return nil }
        let out = Tensor.uninitialized(outShape)
        // The same multiply-adds as the GEMM it replaces, so GFLOP/s compare across paths.
        FLOPCounter.add(2 * Double(p.n * p.outC * p.outPlane) * Double(p.rows))
        let work = p.n * p.outC * p.outPlane * p.rows
        withUnsafePointer(to: &plan) { plan in
            Workspace.with(max(1, plan.pointee.scratch_floats)) { scratch in
                if plan.pointee.in_place == 0 {
                    Parallel.parts(cost: x.count) { part, parts in
                        ck_conv_prepare(plan, x.ptr, scratch, Int32(part), Int32(parts))
                    }
                }
                let image = plan.pointee.in_place != 0 ? UnsafePointer(x.ptr) : UnsafePointer(scratch)
                // Workers take work items from a shared counter until none is left.
                var next = 0
                withUnsafeMutablePointer(to: &next) { next in
                    Parallel.parts(cost: work) { _, _ in
                        ck_conv_run(plan, image, weight.ptr, bias.map { UnsafePointer($0.ptr) }, fuseReLU ? 1 : 0,
                                    out.ptr, next)
                    }
                }
            }
        }
        return out
    }

    static func triple(_ v: [Int]) -> (Int32, Int32, Int32) { (Int32(v[0]), Int32(v[1]), Int32(v[2])) }
}

/// Winograd-transformed weights, kept while the same weight tensor comes back: inference passes the model's
/// cached folded weights, Grad-CAM the parameters themselves. Transforming costs as much as a third of the
/// convolution (ResNet-18 layer2: 0.57 ms against 0.72). An entry holds its source storage, so no other tensor
/// can take that address while it lives, and tensors are copied on write, so a live source never changes;
/// the least recently used entries go past `capacity` floats, sources included (training makes new weights
/// every step).
final class WinogradWeights: @unchecked Sendable {
    static let shared = WinogradWeights()
    private let lock = NSLock()
    private var entries: [(source: TensorStorage, shape: [Int], isa: UInt32, u: TensorStorage)] = []
    private let capacity = 32 << 20

    func transformed(_ weight: Tensor, plan: ck_winograd_plan, cache: Bool = true) -> TensorStorage {
        lock.lock()
        if let i = entries.firstIndex(where: { $0.source === weight.storage && $0.shape == weight.shape && $0.isa == plan.isa.rawValue }) {
            let entry = entries.remove(at: i)
            entries.insert(entry, at: 0)
            lock.unlock()
            return entry.u
        }
        lock.unlock()
        var plan = plan
        let u = TensorStorage(count: ck_winograd_weight_floats(&plan), zeroed: false)
        withUnsafePointer(to: &plan) { plan in
            let out = Int(plan.pointee.s.out_channels)
            Parallel.forEach(out, cost: weight.count / out * 16) { r in
                ck_winograd_weights(plan, weight.ptr, u.pointer, Int32(r.lowerBound), Int32(r.upperBound))
            }
        }
        guard cache else { return u }
        lock.lock(); defer { lock.unlock() }
        entries.insert((weight.storage, weight.shape, plan.isa.rawValue, u), at: 0)
        // Both the transformed weights and the sources they keep alive count.
        var total = entries.reduce(0) { $0 + $1.u.count + $1.source.count }
        while total > capacity, entries.count > 1 {
            let dropped = entries.removeLast()
            total -= dropped.u.count + dropped.source.count
        }
        return u
    }
}
