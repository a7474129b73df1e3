import Foundation

extension LabelledDataset {
    public enum MissingImagePolicy: String, Codable, Sendable {
        /// A row whose image is absent is an error.
        case fail
        /// Such rows are left out and listed in `missingImages`.
        case skip
    }

    /// An image folder plus a label table: the table's image column names files inside `images`.
    public static func imageFolder(images: URL, table: URL, spec: LabelTableSpec,
                                   missing: MissingImagePolicy = .fail) throws(DatasetError) -> LabelledDataset {
        let labelTable: LabelTable
        do { labelTable = try LabelTable.read(table, spec: spec) } catch { throw .labelTable(error) }
        var samples: [Sample] = [], missingImages: [String] = []
        for entry in labelTable.entries {
            let url = images.appendingPathComponent(entry.image)
            guard FileManager.default.fileExists(atPath: url.path) else {
                if missing == .fail { throw .missingImage(row: entry.row, path: url.path) }
                missingImages.append(entry.image)
                continue
            }
            samples.append(Sample(source: .file(url), patient: entry.patient, labels: entry.labels, mask: entry.mask))
        }
        return LabelledDataset(labelNames: labelTable.labelNames, task: .multiLabel, samples: samples, missingImages: missingImages)
    }
}
