import ArgumentParser
import Foundation
import MedEngine
import MedTrainKit

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training throughput (images/s) of the training loop on synthetic samples; prints one JSON line.")

    @Option(help: "Architecture: \(ModelZoo.architectures.joined(separator: ", ")).") var arch: String
    @Option(help: "First-stage width of a reduced architecture.") var width: Int?
    @Option(help: "Batch and sample shape, e.g. 64x1x28x28 or 16x3x224x224.") var input: String
    @Option(help: "Timed steps.") var steps = 5
    @Option(help: "Engine threads (default: all cores).") var threads: Int?

    func run() throws {
        guard let shape = Benchmark.parseShape(input), shape.count == 4 || shape.count == 5 else {
            throw ValidationError("--input \(input) is not NxCxHxW or NxCxDxHxW")
        }
        if let threads { CPUBackend.setThreads(threads) }
        let result = try TrainingBenchmark.run(architecture: arch, width: width, input: shape, steps: steps)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
