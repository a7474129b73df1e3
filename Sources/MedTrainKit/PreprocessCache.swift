import MedImaging
import Foundation
import MedEngine
import NumPyFormat

/// Preprocessed arrays on disk, at `<root>/<spec key>/<SHA-256 of the file's bytes>.npy`: a second epoch or a
/// second run reads the array instead of decoding and resizing the image again. Keyed by content, not path, so a
/// renamed file still hits and an overwritten one misses. In-memory samples are not cached (nothing to decode).
public struct PreprocessCache: Sendable {
    public let root: URL
    public let preprocessor: Preprocessor
    private let digests = DigestMemo()

    public init(root: URL, preprocessor: Preprocessor) {
        self.root = root
        self.preprocessor = preprocessor
    }

    public enum Outcome: Sendable, Equatable { case hit, miss, uncached }

    public func tensor(for sample: Sample) throws(PreprocessError) -> (values: [Float], outcome: Outcome) {
        guard case let .file(url) = sample.source else { return (try preprocessor.tensor(for: sample), .uncached) }
        let key: String
        do { key = try digests.digest(of: url) } catch { throw .unreadable(path: url.path, reason: error.localizedDescription) }
        let folder = root.appendingPathComponent(preprocessor.specKey)
        let entry = folder.appendingPathComponent("\(key).npy")
        if let cached = try? NPYArray.read(from: entry), cached.shape == preprocessor.spec.tensorShape {
            return (cached.data, .hit)
        }
        let values = try preprocessor.tensor(for: sample)
        // A cache that cannot be written only costs time: the array is still returned.
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? NPYArray(shape: preprocessor.spec.tensorShape, data: values).write(to: entry)
        return (values, .miss)
    }
}

/// File digests remembered for the life of a cache value, by path, size and modification time: later epochs of
/// one run skip re-hashing; a file changed in place gets a new size or time and is hashed again.
private final class DigestMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: String] = [:]

    func digest(of url: URL) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        let stamp = "\(url.path)|\(attributes[.size] ?? 0)|\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        lock.lock()
        let remembered = known[stamp]
        lock.unlock()
        if let remembered { return remembered }
        let digest = Checksum.sha256Hex(try Data(contentsOf: url, options: .mappedIfSafe))
        lock.lock()
        known[stamp] = digest
        lock.unlock()
        return digest
    }
}
