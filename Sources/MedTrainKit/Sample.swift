import Foundation
import MedImaging

/// One training example: where its pixels come from, whose they are, and its targets.
public struct Sample: Sendable {
    public enum Source: Sendable {
        /// Read through `ScanReader` (DICOM, PNG, JPEG, TIFF, .vol).
        case file(URL)
        /// Already decoded (MedMNIST arrays).
        case memory(Volume)
    }

    public var source: Source
    public var patient: String
    /// One value per label: 0/1 (multi-label), or one-hot (multi-class).
    public var labels: [Float]
    /// 1 where the label counts, 0 where it is uncertain and must be left out of the loss.
    public var mask: [Float]

    public init(source: Source, patient: String, labels: [Float], mask: [Float]? = nil) {
        self.source = source
        self.patient = patient
        self.labels = labels
        self.mask = mask ?? [Float](repeating: 1, count: labels.count)
    }
}

/// What the labels of a data set mean, which decides the loss and the metrics.
public enum LabelTask: String, Codable, Sendable {
    /// Independent 0/1 labels (sigmoid + BCE).
    case multiLabel = "multi_label"
    /// Exactly one of the labels (softmax + cross-entropy), stored one-hot.
    case multiClass = "multi_class"
    /// One 0/1 label.
    case binary
}

/// Samples with their label names.
public struct LabelledDataset: Sendable {
    public var labelNames: [String]
    public var task: LabelTask
    public var samples: [Sample]
    /// Table rows whose image was not found (when those are skipped rather than refused).
    public var missingImages: [String] = []

    public init(labelNames: [String], task: LabelTask, samples: [Sample], missingImages: [String] = []) {
        self.labelNames = labelNames
        self.task = task
        self.samples = samples
        self.missingImages = missingImages
    }

    /// Positives per label among the given samples, counting only unmasked labels.
    public func positiveCounts(_ indices: [Int]? = nil) -> [Int] {
        var counts = [Int](repeating: 0, count: labelNames.count)
        for index in indices ?? Array(samples.indices) {
            let sample = samples[index]
            for label in counts.indices where sample.mask[label] > 0 && sample.labels[label] > 0 { counts[label] += 1 }
        }
        return counts
    }
}

/// Why a data set could not be assembled.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case labelTable(LabelTableError)
    case missingImage(row: Int, path: String)
    case unreadableFolder(path: String, reason: String)
    case noClasses(path: String)
    case npz(path: String, reason: String)
    /// The parts of a data spec (train, validation, test) do not fit together.
    case inconsistentParts(String)

    public var description: String {
        switch self {
        case let .labelTable(error): return error.description
        case let .missingImage(row, path): return "row \(row): image \(path) does not exist"
        case let .unreadableFolder(path, reason): return "cannot list \(path): \(reason)"
        case let .noClasses(path): return "\(path) has no class folders with images"
        case let .npz(path, reason): return "\(path): \(reason)"
        case let .inconsistentParts(reason): return "the data parts do not fit together: \(reason)"
        }
    }
}

extension LabelledDataset {
    /// Per label, negatives over positives among the given samples (unmasked only): BCE's `pos_weight`, which
    /// makes a rare label's positives count as much as its negatives. 1 for a label without positives or negatives.
    public func positiveWeights(_ indices: [Int]? = nil) -> [Float] {
        let chosen = indices ?? Array(samples.indices)
        var positives = [Int](repeating: 0, count: labelNames.count), negatives = positives
        for index in chosen {
            let sample = samples[index]
            for label in positives.indices where sample.mask[label] > 0 {
                if sample.labels[label] > 0 { positives[label] += 1 } else { negatives[label] += 1 }
            }
        }
        return zip(positives, negatives).map { p, n in p > 0 && n > 0 ? Float(n) / Float(p) : 1 }
    }
}
