import Dispatch
import Foundation

/// Where one benchmarked iteration spends its time, by backend operation (convolutions by kernel and stride).
public struct OpTime: Codable, Equatable, Sendable {
    public var op: String
    public var ms: Double
    public var calls: Int
    /// Dense-equivalent multiply-add work per second (convolutions and matrix products only).
    public var gflops: Double?
}

/// Times every backend call made by the task that owns `recorder` and forwards it to `inner`. Calls from other
/// tasks (tests running beside a benchmark) pass through unrecorded.
struct ProfilingBackend: Backend {
    let inner: any Backend
    let recorder: OpRecorder

    var name: String { inner.name }

    private func timed<R>(_ op: @autoclosure () -> String, flops: Double = 0, _ body: () -> R) -> R {
        guard OpRecorder.current === recorder else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let r = body()
        recorder.add(op(), ns: DispatchTime.now().uptimeNanoseconds - start, flops: flops)
        return r
    }

    private static func convName(_ g: WindowGeometry, groups: Int) -> String {
        let kernel = g.kernel.map(String.init).joined(separator: "x")
        return "conv \(kernel) s\(g.stride.max() ?? 1)" + (groups > 1 ? " g\(groups)" : "")
    }

    private static func convFLOPs(_ x: Tensor, _ weight: Tensor, _ g: WindowGeometry) -> Double {
        let p = ConvPlan(input: x.shape, weight: weight.shape, geometry: g, groups: 1)
        return 2 * Double(p.n * p.outPlane) * Double(weight.count)
    }

    func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        return timed("matmul", flops: 2 * Double(m * n * k)) { inner.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    }

    func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry, groups: Int,
                     fuseReLU: Bool) -> Tensor {
        timed(Self.convName(geometry, groups: groups), flops: Self.convFLOPs(x, weight, geometry)) {
            inner.convolution(x, weight: weight, bias: bias, geometry: geometry, groups: groups, fuseReLU: fuseReLU)
        }
    }

    func convolutionBackward(_ x: Tensor, weight: Tensor, outputGradient: Tensor, geometry: WindowGeometry,
                             groups: Int, needInputGradient: Bool) -> (input: Tensor?, weight: Tensor, bias: Tensor) {
        let flops = Self.convFLOPs(x, weight, geometry) * (needInputGradient ? 2 : 1)
        return timed(Self.convName(geometry, groups: groups) + " backward", flops: flops) {
            inner.convolutionBackward(x, weight: weight, outputGradient: outputGradient, geometry: geometry,
                                      groups: groups, needInputGradient: needInputGradient)
        }
    }

    func batchNormTrain(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, invStd: Tensor, variance: Tensor) {
        timed("batch-norm") { inner.batchNormTrain(x, gamma: gamma, beta: beta, eps: eps) }
    }

    func batchNormBackward(_ x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor, outputGradient: Tensor)
        -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        timed("batch-norm backward") {
            inner.batchNormBackward(x, gamma: gamma, mean: mean, invStd: invStd, outputGradient: outputGradient)
        }
    }

    func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor, fuseReLU: Bool) -> Tensor {
        timed("channel affine" + (fuseReLU ? " + relu" : "")) {
            inner.channelAffine(x, scale: scale, shift: shift, fuseReLU: fuseReLU)
        }
    }

    func activation(_ kind: Activation, _ x: Tensor) -> Tensor {
        timed(kind.rawValue) { inner.activation(kind, x) }
    }

    func activationBackward(_ kind: Activation, input: Tensor, output: Tensor, outputGradient: Tensor) -> Tensor {
        timed(kind.rawValue + " backward") {
            inner.activationBackward(kind, input: input, output: output, outputGradient: outputGradient)
        }
    }

    func maxPool(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, argmax: [Int32]) {
        timed("max-pool") { inner.maxPool(x, geometry: geometry) }
    }

    func maxPoolBackward(outputGradient: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
        timed("max-pool backward") { inner.maxPoolBackward(outputGradient: outputGradient, argmax: argmax, inputShape: inputShape) }
    }

    func avgPool(_ x: Tensor, geometry: WindowGeometry) -> Tensor {
        timed("avg-pool") { inner.avgPool(x, geometry: geometry) }
    }

    func avgPoolBackward(outputGradient: Tensor, geometry: WindowGeometry, inputShape: [Int]) -> Tensor {
        timed("avg-pool backward") {
            inner.avgPoolBackward(outputGradient: outputGradient, geometry: geometry, inputShape: inputShape)
        }
    }

    func adaptiveAvgPool(_ x: Tensor, outputSize: [Int]) -> Tensor {
        timed("adaptive avg-pool") { inner.adaptiveAvgPool(x, outputSize: outputSize) }
    }

    func adaptiveAvgPoolBackward(outputGradient: Tensor, inputShape: [Int]) -> Tensor {
        timed("adaptive avg-pool backward") { inner.adaptiveAvgPoolBackward(outputGradient: outputGradient, inputShape: inputShape) }
    }

    func axpby(_ a: Tensor, alpha: Float, _ b: Tensor, beta: Float) -> Tensor {
        timed("add") { inner.axpby(a, alpha: alpha, b, beta: beta) }
    }

    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { timed("multiply") { inner.multiply(a, b) } }
    func addRowBias(_ x: Tensor, bias: Tensor) -> Tensor { timed("row bias") { inner.addRowBias(x, bias: bias) } }
    func sumRows(_ x: Tensor) -> Tensor { timed("sum rows") { inner.sumRows(x) } }
    func concatChannels(_ parts: [Tensor]) -> Tensor { timed("concat") { inner.concatChannels(parts) } }
    func splitChannels(_ x: Tensor, sizes: [Int]) -> [Tensor] { timed("split") { inner.splitChannels(x, sizes: sizes) } }
}

/// Accumulates time and work per operation name.
final class OpRecorder: @unchecked Sendable {
    @TaskLocal static var current: OpRecorder?
    private let lock = NSLock()
    private var totals: [String: (ns: UInt64, calls: Int, flops: Double)] = [:]

    func add(_ op: String, ns: UInt64, flops: Double) {
        lock.lock(); defer { lock.unlock() }
        let t = totals[op] ?? (0, 0, 0)
        totals[op] = (t.ns + ns, t.calls + 1, t.flops + flops)
    }

    /// Per-iteration figures, slowest operation first.
    func times(iterations: Int) -> [OpTime] {
        lock.lock(); defer { lock.unlock() }
        let k = Double(max(1, iterations))
        return totals.map { op, t in
            OpTime(op: op, ms: Double(t.ns) / 1e6 / k, calls: t.calls / max(1, iterations),
                   gflops: t.flops > 0 && t.ns > 0 ? t.flops / Double(t.ns) : nil)
        }.sorted { $0.ms > $1.ms }
    }
}

extension Benchmark {
    /// Runs `once` `iterations` times with every backend call timed.
    static func profile(iterations: Int, _ once: () -> Void) -> [OpTime] {
        let recorder = OpRecorder()
        // Scoped like the backend it wraps: a process-wide swap is hidden by a caller's `withBackend`.
        Engine.withBackend(ProfilingBackend(inner: Engine.backend, recorder: recorder)) {
            OpRecorder.$current.withValue(recorder) {
                for _ in 0..<max(1, iterations) { once() }
            }
        }
        return recorder.times(iterations: iterations)
    }
}
