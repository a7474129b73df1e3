import Foundation
import MedEngine
import MedImaging
import Testing
@testable import MedTrainKit

/// The models the product ships (models/, trained by tools/train/train_default_models.sh): each is the current
/// version of its store entry, verifies on load (sha256 and self-test), has a model card, and turns a real scan
/// of its kind, as intake reads it, into one probability per label.
@Suite struct DefaultModelTests {
    static let repository = TrainFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
    static let store = ModelStore(root: repository.appendingPathComponent("models"))

    /// Model name, a real scan from fixtures/, and the labels the daemon's routing expects.
    static let cases: [(name: String, scan: String, labels: [String])] = [
        ("chest-pneumonia", "dicom/fo-dicom/CR-MONO1-10-chest", ["pneumonia"]),
        ("chest-nih14", "dicom/pydicom-data/RG1_J2KI.dcm", LabelTableSpec.nihFindings),
        ("fundus-odir8", "photo/1410_left.jpg", ["N", "D", "G", "C", "A", "H", "M", "O"]),
        ("oct-kermany4", "oct/Willis_B_716_0.vol", ["CNV", "DME", "DRUSEN", "NORMAL"]),
        ("volume-adrenal3d", "dicom/dcmqi/segmentations/23x38x3/seg/label.seg", ["hyperplasia"]),
    ]

    @Test func theStoreHoldsExactlyTheDefaultModelsWithinTheirBudget() throws {
        #expect(Self.store.names() == Self.cases.map(\.name).sorted())
        var bytes = 0
        let enumerator = FileManager.default.enumerator(at: Self.store.root, includingPropertiesForKeys: [.fileSizeKey, .isSymbolicLinkKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .isSymbolicLinkKey])
            if values.isSymbolicLink != true { bytes += values.fileSize ?? 0 }
        }
        print("default models: \(bytes) bytes in models/")
        #expect(bytes <= 30_000_000)
    }

    @Test(arguments: cases.map(\.name))
    func aDefaultModelReadsARealScanOfItsKind(name: String) throws {
        let entry = try #require(Self.cases.first { $0.name == name })
        let (version, package) = try Self.store.loadCurrent(name)
        #expect(Self.store.history(of: name).last?.version == version)
        let m = package.manifest
        #expect(m.labels == entry.labels && m.thresholds.count == m.labels.count && m.thresholdMethod == "youden")
        #expect(m.metrics["validation.mean_auroc"] != nil && m.provenance["config_sha256"]?.count == 64)
        let card = try String(contentsOf: Self.store.root.appendingPathComponent("\(name)/MODEL_CARD.md"), encoding: .utf8)
        #expect(card.contains("medtrain train --config tools/train/configs/\(name).json"))

        let read = ScanReader.read(TrainFixtures.root.deletingLastPathComponent().appendingPathComponent(entry.scan))
        let volume = try #require(read.volumes.first, "\(entry.scan): \(read.failures)")
        let input = try m.input.tensor(from: volume, name: entry.scan)
        let logits = package.model.predict(Tensor(shape: [1] + m.input.tensorShape, data: input)).scalars
        #expect(logits.count == m.labels.count && logits.allSatisfy(\.isFinite), "\(name) on \(entry.scan): \(logits)")
    }
}
