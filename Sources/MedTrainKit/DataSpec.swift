import Foundation
import MedEngine

/// One part of a data set: what a model is trained on, selected on, and finally tested on.
public enum DataPart: String, Codable, Sendable, CaseIterable {
    case train, validation, test

    /// `train`, `val` / `validation`, `test` (MedMNIST's key prefixes and the commands' `--split`).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "train": self = .train
        case "val", "validation": self = .validation
        case "test": self = .test
        default: return nil
        }
    }

    /// The key prefix of a MedMNIST `.npz`.
    var medMNISTSplit: String { self == .validation ? "val" : rawValue }
}

/// How a source without its own validation and test parts is split: by patient, stratified, seeded.
public struct SplitSettings: Codable, Sendable, Equatable {
    public var fractions: SplitFractions
    public var seed: UInt64

    public init(fractions: SplitFractions = SplitFractions(train: 0.7, validation: 0.15, test: 0.15), seed: UInt64 = 0) {
        self.fractions = fractions
        self.seed = seed
    }
}

/// Where training, validation and test samples come from, as `--data` or a training config's `data` states it:
/// `{"source": {"medMNIST": {...}}}` (the `.npz`'s own `train`/`val`/`test` keys are the parts),
/// `{"source": {"imageFolder": {...}}, "split": {"fractions": {...}, "seed": 0}}` (a patient split), or explicit
/// `validation` / `test` sources beside `source`.
public struct DataSpec: Codable, Sendable, Equatable {
    public var source: DataSource
    public var validation: DataSource?
    public var test: DataSource?
    public var split: SplitSettings

    public init(source: DataSource, validation: DataSource? = nil, test: DataSource? = nil, split: SplitSettings = SplitSettings()) {
        self.source = source
        self.validation = validation
        self.test = test
        self.split = split
    }

    enum CodingKeys: String, CodingKey { case source, validation, test, split }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(DataSource.self, forKey: .source)
        validation = try c.decodeIfPresent(DataSource.self, forKey: .validation)
        test = try c.decodeIfPresent(DataSource.self, forKey: .test)
        split = try c.decodeIfPresent(SplitSettings.self, forKey: .split) ?? SplitSettings()
    }

    /// Loads every part. A MedMNIST source supplies its own `val` and `test` keys (a missing `test` key means
    /// no test part); any other source without explicit parts is split by patient.
    public func load(relativeTo base: URL) throws(DatasetError) -> DataParts {
        let primary = try source.load(relativeTo: base)
        if validation == nil, case let .medMNIST(npz, _, names, classes) = source {
            let url = URL(fileURLWithPath: npz, relativeTo: base).standardizedFileURL
            let keys = try NPZArchive(url: url).keys
            func part(_ p: DataPart) throws(DatasetError) -> LabelledDataset? {
                guard keys.contains("\(p.medMNISTSplit)_images") else { return nil }
                return try DataSource.medMNIST(npz: npz, split: p.medMNISTSplit, labelNames: names, classCount: classes).load(relativeTo: base)
            }
            let testPart = try test.map { source throws(DatasetError) in try source.load(relativeTo: base) }
            return try DataParts(train: primary, validation: part(.validation), test: testPart != nil ? testPart : part(.test))
        }
        if let validation {
            return try DataParts(train: primary, validation: validation.load(relativeTo: base), test: test?.load(relativeTo: base))
        }
        let split = PatientSplit(primary, fractions: split.fractions, seed: split.seed)
        return try DataParts(train: primary.subset(split.train), validation: primary.subset(split.validation),
                             test: split.test.isEmpty ? nil : primary.subset(split.test))
    }

    /// The same spec with every path made absolute, so that a package's provenance names its data wherever
    /// it is read from.
    public func absolute(relativeTo base: URL) -> DataSpec {
        DataSpec(source: source.absolute(relativeTo: base), validation: validation?.absolute(relativeTo: base),
                 test: test?.absolute(relativeTo: base), split: split)
    }
}

/// The loaded parts of a `DataSpec`, with one set of label names.
public struct DataParts: Sendable {
    public var train: LabelledDataset
    public var validation: LabelledDataset?
    public var test: LabelledDataset?

    public init(train: LabelledDataset, validation: LabelledDataset?, test: LabelledDataset?) throws(DatasetError) {
        for other in [validation, test].compactMap({ $0 }) where other.labelNames != train.labelNames {
            throw .inconsistentParts("labels \(train.labelNames) and \(other.labelNames)")
        }
        self.train = train
        self.validation = validation
        self.test = test
    }

    public var labelNames: [String] { train.labelNames }

    public subscript(part: DataPart) -> LabelledDataset? {
        switch part {
        case .train: return train
        case .validation: return validation
        case .test: return test
        }
    }

    /// Samples, patients and positives per label and part.
    public var report: SplitReport {
        let parts = [train, validation, test].map { $0 ?? train.subset([]) }
        let all = LabelledDataset(labelNames: train.labelNames, task: train.task, samples: parts.flatMap(\.samples))
        var start = 0
        let splits = parts.map { part -> [Int] in
            defer { start += part.samples.count }
            return Array(start..<(start + part.samples.count))
        }
        return SplitReport(dataset: all, splits: splits)
    }
}

extension LabelledDataset {
    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabelledDataset {
        LabelledDataset(labelNames: labelNames, task: task, samples: indices.map { samples[$0] })
    }

    /// SHA-256 over every sample's pixels (the file's bytes, or the decoded voxels), patient, labels and mask, in
    /// order: two runs on the same digest saw the same data. A file that cannot be read hashes as its path.
    public func digest() -> String {
        var lines: [String] = []
        lines.reserveCapacity(samples.count)
        for sample in samples {
            let pixels: String
            switch sample.source {
            case let .file(url):
                pixels = (try? Data(contentsOf: url, options: .mappedIfSafe)).map(Checksum.sha256Hex) ?? "unreadable:\(url.path)"
            case let .memory(volume):
                pixels = volume.voxels.withUnsafeBytes { Checksum.sha256Hex(Data($0)) } + "/\(volume.shape)"
            }
            lines.append("\(pixels) \(sample.patient) \(sample.labels) \(sample.mask)")
        }
        return Checksum.sha256Hex(Data((labelNames.joined(separator: "|") + "\n" + lines.joined(separator: "\n")).utf8))
    }
}

extension DataSource {
    func absolute(relativeTo base: URL) -> DataSource {
        func path(_ relative: String) -> String { URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL.path }
        switch self {
        case let .imageFolder(images, table, spec, missing):
            return .imageFolder(images: path(images), table: path(table), spec: spec, missing: missing)
        case let .classFolders(root, patients):
            return .classFolders(root: path(root), patients: patients)
        case let .medMNIST(npz, split, labelNames, classCount):
            return .medMNIST(npz: path(npz), split: split, labelNames: labelNames, classCount: classCount)
        }
    }
}
