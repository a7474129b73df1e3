import Foundation
import Testing
@testable import MedTrainKit

@Suite struct DatasetTests {
    @Test func imageFolderSkipsOrRefusesRowsWithoutImages() throws {
        let images = TrainFixtures.url("nih/images"), table = TrainFixtures.url("nih/Data_Entry_2017_v2020.csv")
        let dataset = try LabelledDataset.imageFolder(images: images, table: table, spec: .nihChestXray14, missing: .skip)
        #expect(dataset.samples.count == 4 && dataset.missingImages.count == 16)
        #expect(dataset.samples.map(\.patient) == ["1368", "4094", "4922", "5618"])
        guard case let .file(url) = dataset.samples[1].source else { Issue.record("not a file sample"); return }
        #expect(url.lastPathComponent == "00004094_000.png")
        #expect(dataset.samples[1].labels[LabelTableSpec.nihFindings.firstIndex(of: "Mass")!] == 1)
        #expect(throws: DatasetError.missingImage(row: 2, path: images.appendingPathComponent("00000442_000.png").path)) {
            try LabelledDataset.imageFolder(images: images, table: table, spec: .nihChestXray14)
        }
    }

    @Test func odirKeepsBothEyesOfAPatient() throws {
        let dataset = try LabelledDataset.imageFolder(images: TrainFixtures.url("odir/images"), table: TrainFixtures.url("odir/full_df.csv"),
                                                      spec: .odir5k, missing: .skip)
        #expect(dataset.samples.count == 6)
        #expect(Set(dataset.missingImages) == ["180_left.jpg", "180_right.jpg", "225_left.jpg", "225_right.jpg"])
        #expect(dataset.positiveCounts() == [2, 2, 2, 0, 2, 0, 0, 2])
    }

    @Test func classFoldersGiveOneHotClasses() throws {
        let dataset = try LabelledDataset.classFolders(root: TrainFixtures.url("kermany/val"), patients: .field(separator: "-", index: 1))
        #expect(dataset.labelNames == ["CNV", "DME", "DRUSEN", "NORMAL"])
        #expect(dataset.task == .multiClass)
        #expect(dataset.samples.count == 8)
        #expect(dataset.positiveCounts() == [2, 2, 2, 2])
        #expect(dataset.samples.allSatisfy { $0.labels.reduce(0, +) == 1 })
        // DME-9583225-1 and -2 are one patient.
        #expect(dataset.samples[2].patient == "9583225" && dataset.samples[3].patient == "9583225")
    }

    @Test(arguments: [("pneumoniamnist_subset.npz", "train"), ("pneumoniamnist_subset.npz", "val"),
                      ("adrenalmnist3d_subset.npz", "train"), ("adrenalmnist3d_subset.npz", "val")])
    func medMNISTMatchesNumPy(file: String, split: String) throws {
        let expected = try JSONDecoder().decode([String: [String: ArraySummary]].self,
                                                from: Data(contentsOf: TrainFixtures.url("medmnist/expected.json")))[file]!
        let dataset = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/\(file)"), split: split)
        let images = expected["\(split)_images"]!, labels = expected["\(split)_labels"]!
        #expect(dataset.task == .binary && dataset.labelNames == ["1"])
        #expect(dataset.samples.count == images.shape[0])
        var total = 0.0, first = 0.0
        for (index, sample) in dataset.samples.enumerated() {
            guard case let .memory(volume) = sample.source else { Issue.record("not in memory"); return }
            #expect(volume.shape.array == (images.shape.count == 3 ? [1, 1] + images.shape.dropFirst() : [1] + images.shape.dropFirst()))
            let sum = volume.voxels.reduce(0.0) { $0 + Double($1) }
            total += sum
            if index == 0 { first = sum }
        }
        #expect(total == Double(images.sum) && first == Double(images.firstSum))
        #expect(dataset.positiveCounts() == [labels.sum])
    }

    @Test func multiClassLabelsBecomeOneHot() throws {
        let dataset = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/adrenalmnist3d_subset.npz"), split: "train",
                                                   labelNames: ["normal", "hyperplasia", "other"], classCount: 3)
        #expect(dataset.task == .multiClass)
        #expect(dataset.positiveCounts() == [11, 5, 0])
    }

    @Test func npzErrorsNameTheMissingArray() throws {
        #expect(throws: DatasetError.self) {
            try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz"), split: "test")
        }
        let keys = try NPZArchive(url: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz")).keys
        #expect(keys == ["train_images", "train_labels", "val_images", "val_labels"])
    }
}

struct ArraySummary: Decodable {
    var shape: [Int]
    var sum: Int
    var firstSum: Int
    enum CodingKeys: String, CodingKey { case shape, sum, firstSum = "first_sum" }
}

@Suite struct DataSourceTests {
    @Test func configNamesEachKindOfSource() throws {
        let json = """
        [{"imageFolder": {"images": "odir/images", "table": "odir/full_df.csv", "missing": "skip",
          "spec": {"imageColumn": "filename", "patientColumn": "ID", "uncertain": "mask",
                   "labels": {"columns": {"names": ["N", "D", "G", "C", "A", "H", "M", "O"]}}}}},
         {"classFolders": {"root": "kermany/val", "patients": {"field": {"separator": "-", "index": 1}}}},
         {"medMNIST": {"npz": "medmnist/pneumoniamnist_subset.npz", "split": "train"}}]
        """
        let sources = try JSONDecoder().decode([DataSource].self, from: Data(json.utf8))
        let loaded = try sources.map { try $0.load(relativeTo: TrainFixtures.root.appendingPathComponent("/")) }
        #expect(loaded.map(\.samples.count) == [6, 8, 64])
        #expect(loaded.map(\.task) == [.multiLabel, .multiClass, .binary])
        #expect(sources[0] == .imageFolder(images: "odir/images", table: "odir/full_df.csv", spec: .odir5k, missing: .skip))
    }

    @Test func positiveWeightsAreNegativesOverPositives() throws {
        let dataset = try LabelledDataset.imageFolder(images: TrainFixtures.url("odir/images"), table: TrainFixtures.url("odir/full_df.csv"),
                                                      spec: .odir5k, missing: .skip)
        // 6 images: N, D, G, A and O positive on 2 each (4 negatives: weight 2); C, H and M on none (weight 1).
        #expect(dataset.positiveWeights() == [2, 2, 2, 1, 2, 1, 1, 2])
        #expect(dataset.positiveWeights([0, 1]) == [1, 1, 1, 1, 1, 1, 1, 1])
    }
}
