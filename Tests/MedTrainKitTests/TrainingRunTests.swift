import Foundation
import MedEngine
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct TrainingRunTests {
    static func run(_ config: TrainingConfig, into output: URL, resume: Bool = false) throws -> TrainingRun.Outcome {
        try TrainingRun(config: config, base: URL(fileURLWithPath: "/"), output: output, resume: resume, cacheRoot: nil).run()
    }

    /// The package verifies and holds the validation thresholds and metrics; the report, plots and experiment log
    /// say the same; a finished run resumed does nothing more.
    @Test func aRunWritesPackageReportPlotsAndLog() throws {
        let output = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: output) }
        let config = TrainFixtures.pneumoniaConfig(epochs: 3)
        guard case let .finished(packageURL, report) = try Self.run(config, into: output) else { Issue.record("not finished"); return }

        let package = try ModelPackage.load(from: packageURL)
        let m = package.manifest
        #expect(m.name == "pneumonia-test" && m.version == "1" && m.labels == ["pneumonia"] && m.thresholdMethod == "youden")
        let label = report.validation.evaluation.labels[0]
        #expect(m.thresholds == [Float(try #require(label.threshold))])
        #expect(m.metrics["validation.auroc.pneumonia"] == label.auroc && m.metrics["validation.mAP"] == report.validation.evaluation.meanAveragePrecision)
        #expect(m.metrics["validation.auroc_lower.pneumonia"] == label.aurocInterval?.lower && label.aurocInterval?.resamples == 200)
        #expect(m.metrics["test.auroc.pneumonia"] == report.test?.evaluation.labels[0].auroc && report.test?.samples == 32)
        #expect(m.provenance["config_sha256"] == config.digest && m.provenance["data_validation_sha256"]?.count == 64)
        #expect(DataSpec(provenanceOf: m) == config.data)
        // The package scores the validation part as the report says.
        let validation = try #require(try config.data.load(relativeTo: URL(fileURLWithPath: "/")).validation)
        let again = try package.evaluate(on: validation, cacheRoot: nil, bootstrapResamples: 0).evaluation
        #expect(again.labels[0].auroc == label.auroc && again.labels[0].sensitivity == label.sensitivity)

        let markdown = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("| pneumonia | 64 | 32 |") && markdown.contains("plots/validation-pneumonia.png") && markdown.contains("plots/training.png"))
        for plot in ["plots/validation-pneumonia.png", "plots/test-pneumonia.png", "plots/training.png"] {
            let head = try FileHandle(forReadingFrom: output.appendingPathComponent(plot)).read(upToCount: 4)
            #expect(head == Data([0x89, 0x50, 0x4E, 0x47]), "\(plot)")
        }
        let decoded = try TrainingRun.readReport(output)
        #expect(decoded.history == report.history && decoded.bestEpoch == report.bestEpoch)

        let lines = try String(contentsOf: output.appendingPathComponent("experiment.jsonl"), encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(events.map { $0["event"] as? String } == ["start", "epoch", "epoch", "epoch", "finished"])
        #expect(Set(events.compactMap { $0["run"] as? String }).count == 1)
        let start = events[0]
        #expect((start["config"] as? [String: Any])?["architecture"] as? String == "small_cnn")
        #expect((start["data"] as? [String: String])?["train"] == m.provenance["data_train_sha256"])

        // Without --resume the folder is refused; with it, a finished run is left as it is.
        #expect { try Self.run(config, into: output) } throws: { "\($0)".contains("--resume") }
        let weights = try Data(contentsOf: packageURL.appendingPathComponent("model.safetensors"))
        guard case .finished = try Self.run(config, into: output, resume: true) else { Issue.record("not finished"); return }
        #expect(try Data(contentsOf: packageURL.appendingPathComponent("model.safetensors")) == weights)
        #expect(try String(contentsOf: output.appendingPathComponent("experiment.jsonl"), encoding: .utf8).split(separator: "\n").count == 5)
        // A resumed run must have the same configuration.
        var changed = config
        changed.learningRate = 1e-2
        try FileManager.default.removeItem(at: output.appendingPathComponent("report.json"))
        #expect { try Self.run(changed, into: output, resume: true) } throws: { "\($0)".contains("another configuration") }
    }

    @Test func initialWeightsAreTakenWhereTheyFit() throws {
        let output = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: output) }
        guard case let .finished(packageURL, _) = try Self.run(TrainFixtures.pneumoniaConfig(epochs: 1), into: output.appendingPathComponent("a"))
        else { Issue.record("not finished"); return }
        // Three labels instead of one: everything but the head comes from the package.
        let model = try ModelZoo.make(arch: "small_cnn", inChannels: 1, labels: 3, width: 8, seed: 99)
        let fresh = model.stateDictionary()
        let loaded = try InitialWeights.load(packageURL, into: model)
        #expect(loaded.skipped == ["fc.weight", "fc.bias"])
        let source = try ModelPackage.load(from: packageURL).model.stateDictionary()
        #expect(model.stateDictionary()["conv1.weight"]!.scalars == source["conv1.weight"]!.scalars)
        #expect(model.stateDictionary()["fc.weight"]!.scalars == fresh["fc.weight"]!.scalars)
        #expect(throws: TrainingError.self) { try InitialWeights.load(output.appendingPathComponent("missing"), into: model) }
    }
}

@Suite struct PublisherTests {
    /// A trained package and an untrained one of the same model, both verified packages.
    static func packages(in folder: URL) throws -> (trained: URL, untrained: URL, other: URL) {
        var config = TrainFixtures.pneumoniaConfig(epochs: 3)
        config.version = "2"
        guard case let .finished(trained, _) = try TrainingRun(config: config, base: URL(fileURLWithPath: "/"), output: folder.appendingPathComponent("run"),
                                                               resume: false, cacheRoot: nil).run()
        else { throw TrainingError.model("not finished") }
        func untrained(_ version: String, seed: UInt64) throws -> URL {
            let model = try ModelZoo.make(arch: "small_cnn", inChannels: 1, labels: 1, width: 8, seed: seed)
            var manifest = ModelManifest(name: config.name, version: version, architecture: .init(name: "small_cnn", width: 8), input: config.input,
                                         labels: ["pneumonia"], provenance: ["data": String(decoding: try JSONEncoder().encode(config.data), as: UTF8.self)])
            manifest.thresholds = [0.5]
            let url = folder.appendingPathComponent("untrained-\(version)")
            try ModelPackage(manifest: manifest, model: model).write(to: url)
            return url
        }
        return (trained, try untrained("1", seed: 5), try untrained("3", seed: 6))
    }

    @Test func publishRefusesARegressionAcceptsAnImprovementAndRollsBack() throws {
        let folder = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (trained, untrained, worse) = try Self.packages(in: folder)
        let store = ModelStore(root: folder.appendingPathComponent("models"))
        let publisher = Publisher(store: store)

        let first = try publisher.publish(untrained)
        #expect(first.outcome == .published && store.currentVersion(of: "pneumonia-test") == "1")
        let better = try publisher.publish(trained)
        #expect(better.outcome == .published && better.champion == "1" && store.currentVersion(of: "pneumonia-test") == "2")
        #expect((better.candidateScore ?? 0) > (better.championScore ?? 1) && better.validationSamples == 64)
        let refused = try publisher.publish(worse)
        #expect(refused.outcome == .refused && refused.message.contains("regression"))
        #expect(store.currentVersion(of: "pneumonia-test") == "2" && store.versions(of: "pneumonia-test") == ["1", "2"])
        // The same package again is a no-op, not an error.
        #expect(try publisher.publish(trained).outcome == .alreadyPublished)

        #expect(try store.rollback("pneumonia-test") == "1")
        #expect(store.currentVersion(of: "pneumonia-test") == "1")
        // Forced, the worse model goes in anyway.
        let forced = try Publisher(store: store, force: true).publish(worse)
        #expect(forced.outcome == .published && store.currentVersion(of: "pneumonia-test") == "3")
        #expect(store.history(of: "pneumonia-test").map(\.action) == [.publish, .publish, .rollback, .publish])
    }

    @Test func aCandidateWithOtherLabelsIsRefused() throws {
        let folder = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (trained, _, _) = try Self.packages(in: folder)
        let store = ModelStore(root: folder.appendingPathComponent("models"))
        _ = try Publisher(store: store).publish(trained)
        let model = try ModelZoo.make(arch: "small_cnn", inChannels: 1, labels: 2, width: 8)
        let manifest = ModelManifest(name: "pneumonia-test", version: "9", architecture: .init(name: "small_cnn", width: 8),
                                     input: TrainFixtures.pneumoniaConfig().input, labels: ["normal", "pneumonia"])
        let url = folder.appendingPathComponent("two-labels")
        try ModelPackage(manifest: manifest, model: model).write(to: url)
        #expect { try Publisher(store: store).publish(url) } throws: { "\($0)".contains("cannot be compared") }
        #expect(store.currentVersion(of: "pneumonia-test") == "2")
    }
}
