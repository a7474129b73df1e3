import Foundation
import MedEngine
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct TrainerTests {
    static let identity = RunIdentity(run: "test", version: "1", configDigest: "", dataDigests: [:], started: Date(timeIntervalSince1970: 0))

    static func trainer(_ config: TrainingConfig) throws -> Trainer {
        let parts = try config.data.load(relativeTo: URL(fileURLWithPath: "/"))
        let model = try ModelZoo.make(arch: config.architecture, inChannels: config.input.channels, labels: parts.labelNames.count,
                                      width: config.width, seed: config.seed)
        return try Trainer(config: config, model: model, train: parts.train, validation: parts.validation!,
                           tensors: SampleTensors(spec: config.input, cacheRoot: nil))
    }

    static func validationAUROC(_ trainer: Trainer) throws -> Double {
        let scores = try Scorer.score(trainer.model, dataset: trainer.validation, tensors: trainer.tensors)
        return try #require(scores.scored.outcomes(label: 0).auroc())
    }

    @Test func learnsPneumoniaWithClassWeightsAndAugmentation() throws {
        var config = TrainFixtures.pneumoniaConfig(epochs: 6)
        config.augmentation = AugmentationSpec(rotationDegrees: 5, minScale: 0.95, maxScale: 1.05, translation: 0.03, brightness: 0.05)
        let trainer = try Self.trainer(config)
        let before = try Self.validationAUROC(trainer)
        var epochs: [EpochRecord] = []
        var batches = 0
        let finished = try trainer.run(save: { _ in }, identity: Self.identity) { event in
            if case let .epoch(record, _, _) = event { epochs.append(record) }
            if case .batch = event { batches += 1 }
        }
        let after = try Self.validationAUROC(trainer)
        print("trainer: validation AUROC \(before) -> \(after), history \(epochs.map { String(format: "%.3f", $0.score) })")
        #expect(finished)
        #expect(batches == 6 * 8)
        #expect(epochs.map(\.epoch) == Array(1...trainer.state.history.count))
        #expect(after > 0.85 && after > before + 0.2)
        // The model ends with the best epoch's weights; its batch-norm statistics were re-estimated on the
        // un-augmented training images.
        let best = try #require(trainer.state.history.first { $0.epoch == trainer.state.bestEpoch })
        #expect(best.score == trainer.state.history.map(\.score).max())
        let kept = try #require(trainer.best), now = trainer.model.stateDictionary()
        for (name, parameter) in trainer.model.namedParameters() where !parameter.isBuffer {
            #expect(now[name]!.scalars == kept[name]!.scalars, "\(name) is not the best epoch's")
        }
        #expect(now["bn1.running_mean"]!.scalars != kept["bn1.running_mean"]!.scalars)
    }

    @Test func theSameSeedGivesTheSameWeights() throws {
        let a = try Self.trainer(TrainFixtures.pneumoniaConfig(epochs: 2)), b = try Self.trainer(TrainFixtures.pneumoniaConfig(epochs: 2))
        _ = try a.run(save: { _ in }, identity: Self.identity)
        _ = try b.run(save: { _ in }, identity: Self.identity)
        let wa = a.model.stateDictionary(), wb = b.model.stateDictionary()
        #expect(wa.keys.sorted() == wb.keys.sorted())
        for (name, tensor) in wa { #expect(tensor.scalars == wb[name]!.scalars, "\(name) differs") }
        var other = TrainFixtures.pneumoniaConfig(epochs: 2)
        other.seed = 12
        let c = try Self.trainer(other)
        _ = try c.run(save: { _ in }, identity: Self.identity)
        #expect(c.model.stateDictionary()["fc.weight"]!.scalars != wa["fc.weight"]!.scalars)
    }

    /// Stopped in the middle of epoch 2 (and again right after epoch 3), written to disk, resumed by fresh
    /// trainers: the final weights, the history and the optimizer state equal an uninterrupted run's, bit for bit.
    /// Plateau schedule and augmentation are on, so their state has to survive too.
    @Test func aStoppedRunResumesToTheSameWeights() throws {
        var config = TrainFixtures.pneumoniaConfig(epochs: 4)
        config.schedule = .plateau(factor: 0.5, patience: 0)
        config.augmentation = AugmentationSpec(rotationDegrees: 8, translation: 0.05, contrast: 0.1)
        let scratch = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("checkpoint.safetensors")

        let reference = try Self.trainer(config)
        _ = try reference.run(save: { _ in }, identity: Self.identity)

        var batches = 0
        let first = try Self.trainer(config)
        let stopped = try first.run(shouldStop: { batches == 8 + 3 }, save: { try $0.write(to: file) }, identity: Self.identity) { event in
            if case .batch = event { batches += 1 }
        }
        #expect(!stopped)
        let saved = try TrainingCheckpoint.read(from: file)
        #expect(saved.state.epoch == 1 && saved.state.batch == 3 && saved.state.history.count == 1)
        #expect(saved.identity == Self.identity)

        let second = try Self.trainer(config)
        try second.restore(saved)
        let stoppedAgain = try second.run(shouldStop: { second.state.epoch == 3 }, save: { try $0.write(to: file) }, identity: Self.identity)
        #expect(!stoppedAgain)
        let third = try Self.trainer(config)
        try third.restore(try TrainingCheckpoint.read(from: file))
        #expect(try third.run(save: { try $0.write(to: file) }, identity: Self.identity))

        let expected = reference.model.stateDictionary(), resumed = third.model.stateDictionary()
        for (name, tensor) in expected { #expect(tensor.scalars == resumed[name]!.scalars, "\(name) differs after resuming") }
        func comparable(_ h: [EpochRecord]) -> [[Double]] { h.map { [$0.trainLoss, $0.validationLoss, $0.score, Double($0.learningRate)] } }
        #expect(comparable(third.state.history) == comparable(reference.state.history))
        #expect(third.state.history.map(\.learningRate) != Array(repeating: config.learningRate, count: 4), "the plateau schedule never acted")
        #expect(third.optimizer.state(of: third.selection.trainable.map(\.1)).step == reference.optimizer.state(of: reference.selection.trainable.map(\.1)).step)
    }

    @Test func earlyStoppingEndsTheRunAndKeepsTheBestEpoch() throws {
        var config = TrainFixtures.pneumoniaConfig(epochs: 10)
        // No later epoch can beat the first by a whole unit of mAP: the run stops after 1 + patience epochs.
        config.earlyStopping = EarlyStopping(patience: 2, minDelta: 1)
        let trainer = try Self.trainer(config)
        var stoppedAt: (Int, Int)?
        _ = try trainer.run(save: { _ in }, identity: Self.identity) { event in
            if case let .stoppedEarly(epoch, best) = event { stoppedAt = (epoch, best) }
        }
        #expect(trainer.state.history.count == 3 && trainer.state.stoppedEarly && trainer.state.finished)
        #expect(stoppedAt.map { [$0.0, $0.1] } == [3, 1])
        let scores = try Scorer.score(trainer.model, dataset: trainer.validation, tensors: trainer.tensors)
        #expect(scores.scored.outcomes(label: 0).averagePrecision() == trainer.state.history[0].validationMAP)
    }

    @Test func frozenBackboneTrainsOnlyTheLastStageAndTheHead() throws {
        var config = TrainFixtures.pneumoniaConfig(epochs: 1, architecture: "resnet18_28", width: 4)
        config.mode = .frozenBackbone
        let trainer = try Self.trainer(config)
        let before = trainer.model.stateDictionary()
        _ = try trainer.run(save: { _ in }, identity: Self.identity)
        let after = trainer.model.stateDictionary()
        for (name, tensor) in before {
            let changed = tensor.scalars != after[name]!.scalars
            let trains = name.hasPrefix("layer4.") || name.hasPrefix("fc.")
            #expect(changed == trains || name.hasSuffix("num_batches_tracked"), "\(name): changed \(changed)")
        }
    }

    /// The linear probe trains the head alone, as a logistic regression on the pooled features of the frozen
    /// network: those features through the head give the model's own logits.
    @Test func linearProbeTrainsTheHeadOnFrozenFeatures() throws {
        var config = TrainFixtures.pneumoniaConfig(epochs: 3)
        config.mode = .linearProbe
        config.learningRate = 0.05
        let trainer = try Self.trainer(config)
        let before = trainer.model.stateDictionary()
        let auroc = try Self.validationAUROC(trainer)
        _ = try trainer.run(save: { _ in }, identity: Self.identity)
        let after = trainer.model.stateDictionary()
        for (name, tensor) in before { #expect((tensor.scalars != after[name]!.scalars) == name.hasPrefix("fc."), "\(name)") }
        #expect(try Self.validationAUROC(trainer) > auroc)

        let loader = BatchLoader(dataset: trainer.validation, batchSize: 8, sampleShape: config.input.tensorShape, shuffle: false, seed: 0,
                                 tensor: trainer.tensors.source)
        let batch = try #require(try loader.epoch(0).next())
        let features = trainer.features(of: batch)
        let head = Engine.backend.addRowBias(Engine.backend.matmul(features, after["fc.weight"]!, transposeA: false, transposeB: true),
                                             bias: after["fc.bias"]!)
        let logits = trainer.model.predict(Tensor(shape: batch.shape, data: batch.inputs))
        #expect(head.maxAbsDifference(logits) < 1e-4)
    }

    @Test func linearProbeRefusesAnArchitectureWithoutALinearHead() throws {
        #expect(throws: TrainingError.self) {
            _ = try ParameterSelection(model: VGG(inChannels: 1, labels: 1, widthDivisor: 16, hidden: 8), architecture: "vgg16",
                                       mode: .linearProbe, trainablePrefixes: nil)
        }
    }
}
