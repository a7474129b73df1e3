import Foundation

/// How to find a patient id in a file name when a folder layout has no table.
public enum PatientIDRule: Codable, Sendable, Equatable {
    /// Every file is its own patient.
    case fileName
    /// The `index`-th field of the name (without extension) split at `separator`: Kermany's
    /// `CNV-6652117-1.jpeg` is `.field(separator: "-", index: 1)`.
    case field(separator: String, index: Int)

    func patient(for url: URL) -> String {
        let stem = url.deletingPathExtension().lastPathComponent
        switch self {
        case .fileName: return stem
        case let .field(separator, index):
            let fields = stem.components(separatedBy: separator)
            return index < fields.count ? fields[index] : stem
        }
    }
}

extension LabelledDataset {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "dcm", "vol"]

    /// One subfolder per class (sorted names are the classes), each holding that class's images: one-hot
    /// multi-class samples.
    public static func classFolders(root: URL, patients rule: PatientIDRule = .fileName) throws(DatasetError) -> LabelledDataset {
        let fm = FileManager.default
        func list(_ url: URL) throws(DatasetError) -> [URL] {
            do {
                return try fm.contentsOfDirectory(at: url, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
            } catch { throw .unreadableFolder(path: url.path, reason: error.localizedDescription) }
        }
        var classes: [(name: String, files: [URL])] = []
        for folder in try list(root) where (try? folder.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
            let files = try list(folder).filter { imageExtensions.contains($0.pathExtension.lowercased()) }
            if !files.isEmpty { classes.append((folder.lastPathComponent, files)) }
        }
        guard !classes.isEmpty else { throw .noClasses(path: root.path) }
        var samples: [Sample] = []
        for (index, entry) in classes.enumerated() {
            var oneHot = [Float](repeating: 0, count: classes.count)
            oneHot[index] = 1
            samples += entry.files.map { Sample(source: .file($0), patient: rule.patient(for: $0), labels: oneHot) }
        }
        return LabelledDataset(labelNames: classes.map(\.name), task: .multiClass, samples: samples)
    }
}
