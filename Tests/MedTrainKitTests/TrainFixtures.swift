import Foundation
import MedImaging
import MedTrainKit

/// Test data under `fixtures/train/` of this checkout (copied from the shared data by tools/train/make_fixtures.py).
enum TrainFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/train")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// A fresh directory under the system temporary folder; the caller removes it.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtrain-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// PneumoniaMNIST with both classes in train (128), val (64) and test (32): fixtures/train/medmnist/ATTRIBUTION.md.
    static let balancedSpec = DataSpec(source: .medMNIST(npz: url("medmnist/pneumoniamnist_balanced.npz").path, split: "train",
                                                         labelNames: ["pneumonia"], classCount: nil))

    /// A small CNN on the balanced set: a few seconds per run in a debug build.
    static func pneumoniaConfig(epochs: Int = 3, architecture: String = "small_cnn", width: Int = 8) -> TrainingConfig {
        var config = TrainingConfig(name: "pneumonia-test", data: balancedSpec,
                                    input: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.scale(factor: 1 / 255, offset: 0)])),
                                    architecture: architecture, width: width, epochs: epochs, batchSize: 16, learningRate: 3e-3,
                                    bootstrapResamples: 200, seed: 11)
        config.version = "1"
        return config
    }
}
