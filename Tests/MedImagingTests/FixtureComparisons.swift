import Foundation
import MedImaging
import NumPyFormat
import Testing

/// Reading .npy references and comparing decoded volumes with them, for the imaging tests.
extension Fixtures {
    static func npy(_ relative: String) throws -> NPYArray { try NPYArray.read(from: url(relative)) }

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
