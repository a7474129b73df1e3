import Foundation
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct DataSpecTests {
    @Test func aMedMNISTFileSuppliesItsOwnParts() throws {
        let parts = try TrainFixtures.balancedSpec.load(relativeTo: URL(fileURLWithPath: "/"))
        #expect(parts.train.samples.count == 128 && parts.validation?.samples.count == 64 && parts.test?.samples.count == 32)
        #expect(parts.labelNames == ["pneumonia"])
        #expect(parts.report.parts.map(\.samples) == [128, 64, 32])
        #expect(parts.report.parts.map(\.positives) == [[64], [32], [16]])
        // The subset file has no test arrays: no test part.
        let subset = DataSpec(source: .medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz").path, split: "train",
                                                labelNames: nil, classCount: nil))
        let subsetParts = try subset.load(relativeTo: URL(fileURLWithPath: "/"))
        #expect(subsetParts.validation?.samples.count == 32 && subsetParts.test == nil)
    }

    @Test func anImageFolderIsSplitByPatient() throws {
        let spec = DataSpec(source: .imageFolder(images: "images", table: "full_df.csv", spec: .odir5k, missing: .skip),
                            split: SplitSettings(fractions: SplitFractions(train: 1, validation: 1, test: 1), seed: 3))
        let parts = try spec.load(relativeTo: TrainFixtures.url("odir"))
        let all = [parts.train, parts.validation, parts.test].compactMap { $0 }
        #expect(all.map(\.samples.count).reduce(0, +) == 6)
        let patients = all.map { Set($0.samples.map(\.patient)) }
        #expect(patients.count == 3 && patients.allSatisfy { $0.count == 1 })
        #expect(patients[0].isDisjoint(with: patients[1]) && patients[1].isDisjoint(with: patients[2]))
        // The same seed gives the same split.
        let again = try spec.load(relativeTo: TrainFixtures.url("odir"))
        #expect(again.validation?.samples.map(\.patient) == parts.validation?.samples.map(\.patient))
    }

    @Test func explicitPartsMustAgreeOnTheLabels() throws {
        let kermany = DataSource.classFolders(root: TrainFixtures.url("kermany/val").path, patients: .fileName)
        let pneumonia = DataSource.medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_balanced.npz").path, split: "val",
                                            labelNames: ["pneumonia"], classCount: nil)
        #expect(throws: DatasetError.self) { try DataSpec(source: kermany, validation: pneumonia).load(relativeTo: URL(fileURLWithPath: "/")) }
        let same = try DataSpec(source: kermany, validation: kermany).load(relativeTo: URL(fileURLWithPath: "/"))
        #expect(same.validation?.samples.count == 8 && same.test == nil)
    }

    @Test func theDigestFollowsPixelsLabelsAndOrder() throws {
        let parts = try TrainFixtures.balancedSpec.load(relativeTo: URL(fileURLWithPath: "/"))
        let digest = parts.validation!.digest()
        let reloaded = try TrainFixtures.balancedSpec.load(relativeTo: URL(fileURLWithPath: "/"))
        #expect(digest.count == 64 && digest == reloaded.validation!.digest())
        var relabelled = parts.validation!
        relabelled.samples[0].labels[0] = 1 - relabelled.samples[0].labels[0]
        #expect(relabelled.digest() != digest)
        #expect(parts.validation!.subset(Array((0..<64).reversed())).digest() != digest)
        #expect(parts.train.digest() != digest)
        let files = try LabelledDataset.classFolders(root: TrainFixtures.url("kermany/val"))
        #expect(files.digest() != files.subset(Array(files.samples.indices.dropFirst())).digest())
    }

    @Test func pathsBecomeAbsoluteForTheProvenance() throws {
        let spec = DataSpec(source: .imageFolder(images: "images", table: "full_df.csv", spec: .odir5k, missing: .skip))
        let absolute = spec.absolute(relativeTo: TrainFixtures.url("odir"))
        guard case let .imageFolder(images, table, _, _) = absolute.source else { Issue.record("not an image folder"); return }
        #expect(images == TrainFixtures.url("odir/images").path && table == TrainFixtures.url("odir/full_df.csv").path)
        let reloaded = try absolute.load(relativeTo: URL(fileURLWithPath: "/nonexistent"))
        #expect(reloaded.train.samples.count + (reloaded.validation?.samples.count ?? 0) + (reloaded.test?.samples.count ?? 0) == 6)
    }
}

@Suite struct TrainingConfigTests {
    static let minimal = """
    {"name": "chest-pneumonia", "architecture": "small_cnn",
     "data": {"source": {"medMNIST": {"npz": "x.npz", "split": "train"}}},
     "input": {"size": [28, 28], "channels": 1, "channelPolicy": "keep", "intensity": {"steps": [{"op": "min_max"}]}, "interpolation": "area"}}
    """

    @Test func omittedKeysTakeTheDefaults() throws {
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(Self.minimal.utf8))
        #expect(config.epochs == 20 && config.batchSize == 32 && config.learningRate == 1e-3 && config.mode == .full)
        #expect(config.schedule == .cosine(minimumRate: 1e-5) && config.earlyStopping == EarlyStopping(patience: 5, minDelta: 1e-4))
        #expect(config.classWeights && config.threshold == "youden" && config.augmentation == .none && config.data.split == SplitSettings())
        try config.validate()
        // An explicit null turns early stopping off.
        let off = try JSONDecoder().decode(TrainingConfig.self, from: Data(Self.minimal.replacingOccurrences(of: "\"name\"", with: "\"earlyStopping\": null, \"name\"").utf8))
        #expect(off.earlyStopping == nil)
        // Encoding and decoding again changes nothing, and the digest follows the content.
        let again = try JSONDecoder().decode(TrainingConfig.self, from: config.canonicalJSON)
        #expect(again == config && again.digest == config.digest)
        var other = config
        other.epochs = 21
        #expect(other.digest != config.digest)
    }

    @Test func errorsNameTheField() throws {
        let url = try TrainFixtures.scratch().appendingPathComponent("bad.json")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Data(Self.minimal.replacingOccurrences(of: "\"channels\": 1", with: "\"channels\": \"one\"").utf8).write(to: url)
        #expect { try TrainingConfig.read(from: url) } throws: { "\($0)".contains("input.channels") }
        var config = try JSONDecoder().decode(TrainingConfig.self, from: Data(Self.minimal.utf8))
        for (change, field) in [({ (c: inout TrainingConfig) in c.architecture = "resnet19" }, "architecture"),
                                ({ $0.epochs = 0 }, "epochs"), ({ $0.threshold = "median" }, "threshold"),
                                ({ $0.name = "../x" }, "name"), ({ $0.schedule = .plateau(factor: 2, patience: 1) }, "plateau")] {
            var broken = config
            change(&broken)
            #expect { try broken.validate() } throws: { "\($0)".contains(field) }
        }
        config.threshold = "sensitivity:0.9"
        try config.validate()
        #expect(config.thresholdRule == .targetSensitivity(minimum: 0.9))
    }

    /// The retraining example and the configurations the default models were trained with.
    @Test func theShippedConfigurationsAreValid() throws {
        let repository = TrainFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let configs = repository.appendingPathComponent("tools/train/configs")
        let names = try FileManager.default.contentsOfDirectory(atPath: configs.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(names == ["chest-nih14.json", "chest-pneumonia.json", "fundus-odir8.json", "oct-kermany4.json", "volume-adrenal3d.json"])
        for name in names {
            let config = try TrainingConfig.read(from: configs.appendingPathComponent(name))
            try config.validate()
            #expect(config.name + ".json" == name && config.version == "1")
        }
        let example = try TrainingConfig.read(from: repository.appendingPathComponent("etc/medlens/medtrain.json"))
        try example.validate()
        #expect(example.name == "chest-nih14" && !example.augmentation.horizontalFlip)
    }

    @Test(arguments: ["youden", "f1", "sensitivity:0.95", "fixed:0.3"])
    func thresholdMethodsRoundTrip(method: String) throws {
        let rule = try #require(ThresholdRule(method: method))
        #expect(rule.method == method && ThresholdRule(method: rule.method) == rule)
    }
}
