import Foundation
import NumPyFormat
@testable import MedEngine

/// fixtures/engine, found relative to this source file so tests run from any directory.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/engine")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func npy(_ name: String) throws -> Tensor { try NPYArray.read(from: url(name)).tensor }
}

/// max|a−b| / max|b|: the tensor-wide relative error used for gradients.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = b.scalars.map(abs).max() ?? 0
    return a.maxAbsDifference(b) / max(scale, 1e-12)
}
