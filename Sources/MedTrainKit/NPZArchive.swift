import Foundation
import NumPyFormat
import ZIPFoundation

/// A NumPy `.npz` file: a ZIP archive holding one `<key>.npy` per array (stored or deflated).
public struct NPZArchive {
    private let archive: Archive
    public let url: URL

    public init(url: URL) throws(DatasetError) {
        self.url = url
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw .npz(path: url.path, reason: "not a readable .npz (ZIP) archive: \(error)")
        }
    }

    public var keys: [String] {
        archive.map { $0.path }.filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }.sorted()
    }

    public func array(_ key: String) throws(DatasetError) -> NPYArray {
        guard let entry = archive["\(key).npy"] else {
            throw .npz(path: url.path, reason: "no array \"\(key)\" (has: \(keys.joined(separator: ", ")))")
        }
        var bytes = Data()
        do {
            _ = try archive.extract(entry) { bytes.append($0) }
            return try NPYArray.parse(bytes)
        } catch { throw .npz(path: url.path, reason: "array \"\(key)\": \(error)") }
    }
}
