import Foundation
import MedEngine
import MedImaging

/// Training throughput of the real loop (batch loader with augmentation, masked class-weighted BCE, AdamW) on
/// synthetic in-memory samples: `medtrain bench`, and `make bench` beside PyTorch.
public struct TrainingBenchmark: Codable, Sendable {
    public var architecture: String
    public var input: [Int]
    public var steps: Int
    public var medianStepMs: Double
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case architecture = "arch", input, steps, medianStepMs = "median_step_ms", imagesPerSecond = "images_per_s"
    }

    /// Times `steps` training steps after `warmup` untimed ones; `input` is N x C x H x W (or x D x H x W).
    public static func run(architecture: String, width: Int?, input: [Int], labels: Int = 1, steps: Int = 5,
                           warmup: Int = 1) throws -> TrainingBenchmark {
        let batch = input[0], sample = Array(input.dropFirst())
        let spatial = Array(sample.dropFirst())
        let shape = spatial.count == 3 ? Volume.Shape(channels: sample[0], depth: spatial[0], rows: spatial[1], cols: spatial[2])
                                       : Volume.Shape(channels: sample[0], rows: spatial[0], cols: spatial[1])
        var rng = SeededRandom(seed: 7)
        let count = batch * (steps + warmup)
        let samples = (0..<count).map { i in
            Sample(source: .memory(Volume(voxels: (0..<shape.count).map { _ in rng.normal() }, shape: shape)), patient: "\(i)",
                   labels: (0..<labels).map { _ in Float(rng.next() & 1) })
        }
        let dataset = LabelledDataset(labelNames: (0..<labels).map { "label\($0)" }, task: .multiLabel, samples: samples)
        var config = TrainingConfig(name: "bench", data: DataSpec(source: .classFolders(root: "", patients: .fileName)),
                                    input: InputSpec(size: spatial, channels: sample[0], intensity: IntensityPipeline([])),
                                    architecture: architecture, width: width, epochs: 1, batchSize: batch)
        config.augmentation = AugmentationSpec(rotationDegrees: 10, minScale: 0.9, maxScale: 1.1, translation: 0.05, brightness: 0.1, contrast: 0.1)
        let model = try ModelZoo.make(arch: architecture, inChannels: sample[0], labels: labels, width: width)
        let trainer = try Trainer(config: config, model: model, train: dataset, validation: dataset.subset([0]),
                                  tensors: SampleTensors(spec: config.input, cacheRoot: nil))
        let stream = trainer.loader.epoch(0)
        var times: [Double] = []
        for index in 0..<(steps + warmup) {
            let start = DispatchTime.now().uptimeNanoseconds
            guard let next = try stream.next() else { break }
            _ = trainer.step(next, epoch: 0, index: index)
            if index >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return TrainingBenchmark(architecture: architecture, input: input, steps: times.count, medianStepMs: median,
                                 imagesPerSecond: Double(batch) / (median / 1000))
    }
}
