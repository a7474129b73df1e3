import Foundation

/// Counts the multiply-add work done by sgemm (2·m·n·k per call), which is where convolutions and linear
/// layers spend their time; `Benchmark` divides it by wall time to report GFLOP/s. Task-local, so other work
/// running at the same time (other models, parallel tests) is not counted.
final class FLOPCounter: @unchecked Sendable {
    @TaskLocal static var current: FLOPCounter?
    var total: Double = 0

    static func add(_ flops: Double) { current?.total += flops }
}

/// What `medlens bench` reports.
public struct BenchmarkResult: Codable, Equatable, Sendable {
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    /// GEMM work of one iteration divided by the median time.
    public var gflops: Double
    public var peakRSSMB: Double
    /// With `profile`: time per backend operation in one iteration, from separate profiled iterations.
    public var timeByOp: [OpTime]?

    enum CodingKeys: String, CodingKey {
        case medianMs = "median_ms", minMs = "min_ms", maxMs = "max_ms", gflops, peakRSSMB = "peak_rss_mb"
        case timeByOp = "time_by_op"
    }
}

public enum Benchmark {
    /// Times `iterations` inference passes (folded batch-norm, no graph) or, with `train`, forward + BCE +
    /// backward + SGD steps, after `warmup` untimed ones. With `profile`, as many more iterations time every
    /// backend operation (`timeByOp`); the timed iterations run without that bookkeeping.
    public static func run(model: any Model, inputShape: [Int], iterations: Int = 10, warmup: Int = 2,
                           train: Bool = false, profile: Bool = false) -> BenchmarkResult {
        var rng = SeededRandom(seed: 1)
        let x = rng.tensor(inputShape)
        var optimizer = SGD(learningRate: 1e-3, momentum: 0.9)
        let once = {
            if train {
                model.zeroGradients()
                let logits = model.forward(Variable(x), ForwardContext(training: true))
                let loss = Functional.bceWithLogits(logits, targets: Tensor(shape: logits.shape))
                loss.backward()
                optimizer.step(model.trainableParameters)
            } else {
                _ = model.predict(x)
            }
            // A device backend returns before its queued work is done.
            Engine.backend.synchronize()
        }
        for _ in 0..<warmup { once() }
        let counter = FLOPCounter()
        var times: [Double] = []
        FLOPCounter.$current.withValue(counter) {
            for _ in 0..<max(1, iterations) {
                let start = DispatchTime.now().uptimeNanoseconds
                once()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let flopsPerIteration = counter.total / Double(times.count)
        let byOp = profile ? Self.profile(iterations: max(1, iterations), once) : nil
        return BenchmarkResult(medianMs: median, minMs: times.first!, maxMs: times.last!,
                               gflops: flopsPerIteration / (median * 1e6), peakRSSMB: peakResidentMegabytes(),
                               timeByOp: byOp)
    }

    /// Parses "1x3x224x224".
    public static func parseShape(_ text: String) -> [Int]? {
        let dims = text.lowercased().split(separator: "x").compactMap { Int($0) }
        return dims.count >= 3 && dims.count == text.split(separator: "x").count && dims.allSatisfy({ $0 > 0 }) ? dims : nil
    }

    /// Peak resident set size of this process (getrusage reports kilobytes on Linux).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
