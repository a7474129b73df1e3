import Foundation
import MedEngine
import MedImaging
import NumPyFormat
import Testing
@testable import MedExplain

/// The cascading randomisation sanity check on a model the engine trains here: SmallCNN on the PneumoniaMNIST
/// subset of fixtures/engine (real paediatric chest X-rays, 28×28). Its Grad-CAM maps must decorrelate as the
/// weights are re-initialised from the output down.
/// `MEDEXPLAIN_SAVE_MODEL=DIR` also writes the trained model as a package (fixtures/explain/pneumonia-small-cnn
/// was made so; see tools/explain/README.md).
@Suite(.serialized) struct SanityCheckTests {
    static let engineFixtures = ExplainFixtures.root.appendingPathComponent("fixtures/engine")

    /// uint8 images → N×1×28×28 in [−1, 1], as TrainingTests does.
    static func load(_ split: String) throws -> (images: [Tensor], labels: [Float]) {
        let x = try NPYArray.read(from: engineFixtures.appendingPathComponent("pneumonia_\(split)_images.npy"))
        let y = try NPYArray.read(from: engineFixtures.appendingPathComponent("pneumonia_\(split)_labels.npy"))
        let images = (0..<x.shape[0]).map { i in
            Tensor(shape: [1, 1, 28, 28], data: x.data[(i * 784)..<((i + 1) * 784)].map { $0 / 127.5 - 1 })
        }
        return (images, y.data)
    }

    static func trainedModel() throws -> SmallCNN {
        let train = try load("train")
        let model = SmallCNN(inChannels: 1, labels: 1, width: 8, seed: 1)
        var optimizer = AdamW(learningRate: 3e-3, weightDecay: 1e-4)
        var rng = SeededRandom(seed: 2)
        for epoch in 0..<6 {
            let order = (0..<train.labels.count).shuffled(using: &rng)
            for b in stride(from: 0, to: order.count, by: 32) {
                let rows = Array(order[b..<min(b + 32, order.count)])
                model.zeroGradients()
                let batch = Tensor(shape: [rows.count, 1, 28, 28], data: rows.flatMap { train.images[$0].scalars })
                let logits = model.forward(Variable(batch), ForwardContext(training: true, seed: UInt64(epoch * 1000 + b)))
                let loss = Functional.bceWithLogits(logits, targets: Tensor(shape: [rows.count, 1], data: rows.map { train.labels[$0] }))
                loss.backward()
                optimizer.step(model.trainableParameters)
            }
        }
        return model
    }

    static func auroc(_ scores: [Float], _ labels: [Float]) -> Double {
        let pos = zip(scores, labels).filter { $0.1 == 1 }.map(\.0), neg = zip(scores, labels).filter { $0.1 == 0 }.map(\.0)
        var wins = 0.0
        for p in pos { for n in neg { wins += p > n ? 1 : (p == n ? 0.5 : 0) } }
        return wins / Double(pos.count * neg.count)
    }

    @Test func gradCAMOfATrainedModelDecorrelatesUnderRandomisation() throws {
        let model = try Self.trainedModel()
        let test = try Self.load("test")
        let auc = Self.auroc(test.images.map { model.predict($0).scalars[0] }, test.labels)
        print("sanity: SmallCNN trained on 256 PneumoniaMNIST images, held-out AUROC \(auc)")
        #expect(auc > 0.9)
        if let out = ProcessInfo.processInfo.environment["MEDEXPLAIN_SAVE_MODEL"] {
            let spec = InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.minMax, .scale(factor: 2, offset: -1)]),
                                 interpolation: .area)
            let manifest = ModelManifest(name: "pneumonia-small-cnn", version: "1", architecture: .init(name: "small_cnn", width: 8),
                                         input: spec, labels: ["Pneumonia"], metrics: ["auroc_heldout_160": auc],
                                         provenance: ["trained_by": "Tests/MedExplainTests/SanityCheckTests.swift",
                                                      "data": "fixtures/engine/pneumonia_train_* (PneumoniaMNIST subset)"])
            try ModelPackage(manifest: manifest, model: model).write(to: URL(fileURLWithPath: out))
        }
        // 40 held-out images, pneumonia first, each explained for its only finding.
        let chosen = Array((test.labels.indices.filter { test.labels[$0] == 1 }.prefix(20)) + test.labels.indices.filter { test.labels[$0] == 0 }.prefix(20))
        let inputs = chosen.map { test.images[$0] }
        let before = model.stateDictionary()
        for method in [ExplanationMethod.gradCAM, .gradCAMPlusPlus] {
            let report = try SanityCheck.cascadingRandomisation(model: model, architecture: "small_cnn", inputs: inputs,
                                                                targets: Array(repeating: 0, count: inputs.count),
                                                                settings: ExplainSettings(method: method))
            print(String(format: "sanity %@: baseline SSIM (random pairs) %.3f", method.rawValue, report.baselineSSIM))
            for stage in report.stages {
                print(String(format: "sanity %@: + %@ re-initialised: SSIM %.3f, Spearman %@, empty maps %d", method.rawValue, stage.randomised,
                             stage.meanSSIM, stage.meanSpearman.map { String(format: "%.3f", $0) } ?? "n/a", stage.emptyMaps))
            }
            #expect(report.stages.map(\.randomised) == ["fc", "bn3", "conv3", "bn2", "conv2", "bn1", "conv1"])
            #expect(report.passes, "\(method): the maps must decorrelate")
            #expect(report.stages.last!.meanSSIM < report.baselineSSIM)
            #expect((report.stages.last!.meanSpearman ?? 0) < 0.5)
        }
        // The check restores the model it was given.
        for (name, value) in model.stateDictionary() { #expect(value.scalars == before[name]!.scalars, "\(name) restored") }
    }
}
