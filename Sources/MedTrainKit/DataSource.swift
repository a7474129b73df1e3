import Foundation

/// Where a data set comes from, as a training config states it (paths relative to the config's folder).
/// `{"imageFolder": {"images": "images", "table": "Data_Entry_2017_v2020.csv", "spec": {...}, "missing": "skip"}}`,
/// `{"classFolders": {"root": "val", "patients": {"field": {"separator": "-", "index": 1}}}}`,
/// `{"medMNIST": {"npz": "pneumoniamnist.npz", "split": "train"}}`.
public enum DataSource: Codable, Sendable, Equatable {
    case imageFolder(images: String, table: String, spec: LabelTableSpec, missing: LabelledDataset.MissingImagePolicy)
    case classFolders(root: String, patients: PatientIDRule)
    case medMNIST(npz: String, split: String, labelNames: [String]?, classCount: Int?)

    public func load(relativeTo base: URL) throws(DatasetError) -> LabelledDataset {
        func path(_ relative: String) -> URL { URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL }
        switch self {
        case let .imageFolder(images, table, spec, missing):
            return try .imageFolder(images: path(images), table: path(table), spec: spec, missing: missing)
        case let .classFolders(root, patients):
            return try .classFolders(root: path(root), patients: patients)
        case let .medMNIST(npz, split, labelNames, classCount):
            return try .medMNIST(npz: path(npz), split: split, labelNames: labelNames, classCount: classCount)
        }
    }
}
