import Foundation

/// Test data under `fixtures/train/` of this checkout (copied from the shared data by tools/train/make_fixtures.py).
enum TrainFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/train")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// A fresh directory under the system temporary folder; the caller removes it.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtrain-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
