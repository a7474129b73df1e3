import Foundation

/// The JSON description of what intake read, as `medlens inspect` prints it. Carries no patient identifiers.
public struct ScanSummary: Codable, Sendable {
    public struct VolumeEntry: Codable, Sendable {
        public var kind: String
        public var shape: [Int]              // C, D, H, W
        public var spacing: [Double]
        public var origin: [Double]
        public var direction: [[Double]]
        public var transferSyntax: String?
        public var photometric: String?
        public var modality: String?
        public var sopClassUID: String?
        public var studyInstanceUID: String?
        public var seriesInstanceUID: String?
        public var files: Int
        public var windows: [Window]
        public var valueRange: [Float]
        public var warnings: [String]
    }
    public var volumes: [VolumeEntry]
    public var failures: [InputFailure]

    public init(_ result: ScanReadResult) {
        volumes = result.volumes.map { v in
            let range = v.voxels.withUnsafeBufferPointer { b -> [Float] in
                guard let first = b.first else { return [] }
                var lo = first, hi = first
                for x in b { lo = min(lo, x); hi = max(hi, x) }
                return [lo, hi]
            }
            return VolumeEntry(kind: v.metadata.kind, shape: v.shape.array, spacing: v.geometry.spacing, origin: v.geometry.origin,
                               direction: v.geometry.direction, transferSyntax: v.metadata.transferSyntax,
                               photometric: v.metadata.photometric, modality: v.metadata.modality,
                               sopClassUID: v.metadata.sopClassUID, studyInstanceUID: v.metadata.studyInstanceUID,
                               seriesInstanceUID: v.metadata.seriesInstanceUID, files: max(1, v.metadata.sopInstanceUIDs.count),
                               windows: v.metadata.windows, valueRange: range, warnings: v.metadata.warnings)
        }
        failures = result.failures
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
