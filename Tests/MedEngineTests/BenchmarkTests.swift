import Foundation
import Testing
@testable import MedEngine

@Suite struct BenchmarkTests {
    @Test func resultIsConsistentAndCountsConvolutionWork() throws {
        // SmallCNN's GEMM work follows from its shapes.
        let model = SmallCNN(inChannels: 1, labels: 2, width: 4)
        let r = Benchmark.run(model: model, inputShape: [2, 1, 16, 16], iterations: 3, warmup: 1)
        #expect(r.minMs <= r.medianMs && r.medianMs <= r.maxMs)
        #expect(r.peakRSSMB > 0)
        // 2·N·C_out·plane·(C_in·9) for conv1 1→4 @16², conv2 4→8 @8², conv3 8→16 @4², plus fc 2·N·2·16.
        let convMACs: Int = 4 * 256 * 9 + 8 * 64 * 36 + 16 * 16 * 72
        let flops = Double(2 * 2 * convMACs + 2 * 2 * 2 * 16)
        #expect(abs(r.gflops * r.medianMs * 1e6 - flops) / flops < 1e-6)
        let json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        for key in ["median_ms", "min_ms", "max_ms", "gflops", "peak_rss_mb"] { #expect(json.contains(key)) }
        #expect(Benchmark.parseShape("1x3x224x224") == [1, 3, 224, 224])
        #expect(Benchmark.parseShape("1x3") == nil)
    }

    @Test func profileTimesEveryOperationUnderAScopedBackend() throws {
        // `medlens bench --profile` runs inside `Engine.withBackend`; the profiler must see those calls.
        let model = SmallCNN(inChannels: 1, labels: 2, width: 4)
        let r = Engine.withBackend(CPUBackend()) {
            Benchmark.run(model: model, inputShape: [2, 1, 16, 16], iterations: 2, warmup: 1, profile: true)
        }
        let ops = try #require(r.timeByOp)
        #expect(ops.contains { $0.op.hasPrefix("conv 3x3") && $0.calls == 3 && ($0.gflops ?? 0) > 0 })
        #expect(ops.allSatisfy { $0.ms >= 0 && $0.calls > 0 })
    }

    /// Timing run for docs/engine.md: MEDENGINE_BENCH="resnet18 1x3x224x224" (release build). Prints one JSON line.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MEDENGINE_BENCH"] != nil))
    func timeArchitecture() throws {
        let spec = ProcessInfo.processInfo.environment["MEDENGINE_BENCH"]!.split(separator: " ").map(String.init)
        let shape = try #require(Benchmark.parseShape(spec[1]))
        let train = spec.contains("train")
        let model = try ModelZoo.make(arch: spec[0], inChannels: shape[1], labels: 1000)
        let r = Benchmark.run(model: model, inputShape: shape, iterations: train ? 5 : 20, warmup: 2, train: train)
        print("bench \(spec.joined(separator: " ")): " + String(decoding: try JSONEncoder().encode(r), as: UTF8.self))
        #expect(r.medianMs > 0)
    }
}
