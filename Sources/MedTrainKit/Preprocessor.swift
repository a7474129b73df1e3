import Foundation
import MedEngine
import MedImaging

/// Reads one sample of a data set and preprocesses it to `spec.tensorShape` (see `InputSpec`), cached by `specKey`.
public struct Preprocessor: Sendable {
    public var spec: InputSpec

    public init(spec: InputSpec) { self.spec = spec }

    public func tensor(for sample: Sample) throws(PreprocessError) -> [Float] {
        switch sample.source {
        case let .file(url):
            let result = ScanReader.read(url)
            guard let volume = result.volumes.first else {
                throw .unreadable(path: url.path, reason: result.failures.first?.message ?? "no image")
            }
            return try tensor(for: volume, name: url.path)
        case let .memory(volume):
            return try tensor(for: volume, name: "sample of patient \(sample.patient)")
        }
    }

    public func tensor(for input: Volume, name: String) throws(PreprocessError) -> [Float] {
        try spec.tensor(from: input, name: name)
    }

    /// A stable text form of the spec: part of the cache key, so any change to it misses the cache.
    public var specKey: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(spec)) ?? Data()
        return String(Checksum.sha256Hex(json).prefix(16))
    }
}
