import Foundation
import MedImaging
import NumPyFormat
import Testing

/// Paths into the repository's fixtures/ (never ../shared), and comparison helpers shared by the tests.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    static func npy(_ relative: String) throws -> NPYArray { try NPYArray.read(from: url(relative)) }

    /// A fresh empty folder under the system temporary directory.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medimaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A Volume from a C x D x H x W array.
    static func volume(_ array: NPYArray) -> Volume {
        precondition(array.shape.count == 4, "expected C x D x H x W")
        return Volume(voxels: array.data, shape: Volume.Shape(channels: array.shape[0], depth: array.shape[1],
                                                              rows: array.shape[2], cols: array.shape[3]))
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// The reason code an intake call failed with, or nil if it succeeded. Any other error fails the test.
    static func reason<T>(_ body: () throws -> T) -> IntakeError.Reason? {
        do { _ = try body(); return nil } catch let error as IntakeError { return error.reason } catch {
            Issue.record("not an IntakeError: \(error)")
            return nil
        }
    }
}
