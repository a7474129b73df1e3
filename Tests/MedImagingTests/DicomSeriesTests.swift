import Foundation
import Testing
@testable import MedImaging

/// Series assembly on a real 35-slice sagittal MR series (dcm_qa_decubitus).
struct DicomSeriesTests {
    static let series = Fixtures.url("dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag")

    static func seriesFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: series, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "dcm" }.sorted { $0.path < $1.path }
    }

    /// Copies files under random names in a random order, so that neither names nor listing order help.
    static func shuffledCopy(_ files: [URL], into directory: URL) throws {
        var generator = SystemRandomNumberGenerator()
        for file in files.shuffled(using: &generator) {
            try FileManager.default.copyItem(at: file, to: directory.appendingPathComponent(UUID().uuidString))
        }
    }

    @Test func shuffledSeriesAssemblesInPositionOrderWithSpacingFromPositions() throws {
        let files = try Self.seriesFiles()
        #expect(files.count == 35)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.shuffledCopy(files, into: directory)

        let result = ScanReader.read(directory)
        #expect(result.failures.isEmpty)
        try #require(result.volumes.count == 1)
        let volume = result.volumes[0]
        #expect(volume.shape == Volume.Shape(channels: 1, depth: 35, rows: 256, cols: 256))
        #expect(volume.metadata.kind == "dicom-series")
        #expect(volume.metadata.warnings.isEmpty)

        // Independent check of the slice spacing: end-to-end distance along the normal over 34 steps.
        let headers = try files.map { try DicomReader.header(at: $0) }
        let normal = volume.geometry.direction[2]
        let depths = headers.map { h in zip(h.framePositions[0]!, normal).reduce(0) { $0 + $1.0 * $1.1 } }
        let expected = (depths.max()! - depths.min()!) / 34
        #expect(abs(volume.geometry.spacing[2] - expected) < 1e-6)
        #expect(abs(volume.geometry.spacing[0] - 1.015625) < 1e-9 && abs(volume.geometry.spacing[1] - 1.015625) < 1e-9)

        // Slice k of the volume is the file whose position is k-th along the normal.
        let order = depths.enumerated().sorted { $0.element < $1.element }.map(\.offset)
        let plane = 256 * 256
        for (slice, fileIndex) in order.enumerated() where slice % 7 == 0 {
            let single = ScanReader.read(files[fileIndex]).volumes[0]
            #expect(Array(volume.voxels[(slice * plane)..<((slice + 1) * plane)]) == single.voxels)
        }
    }

    @Test func missingSliceIsReportedAsGap() throws {
        var files = try Self.seriesFiles()
        files.remove(at: 17)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.shuffledCopy(files, into: directory)
        let volume = try #require(ScanReader.read(directory).volumes.first)
        #expect(volume.shape.depth == 34)
        #expect(volume.metadata.warnings.contains { $0.hasPrefix("gap of") })
    }

    @Test func duplicateFileIsDroppedAndReported() throws {
        let files = try Self.seriesFiles()
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.shuffledCopy(files + [files[3]], into: directory)
        let volume = try #require(ScanReader.read(directory).volumes.first)
        #expect(volume.shape.depth == 35)
        #expect(volume.metadata.warnings.contains { $0.hasPrefix("duplicate slice position") })
    }

    @Test func mixedOrientationsAreSplitWithAReason() throws {
        let files = try Self.seriesFiles()
        var headers = try files.map { try DicomReader.header(at: $0) }
        // A third of the headers get their row and column directions exchanged: same slab, another in-plane axis.
        for i in stride(from: 0, to: headers.count, by: 3) {
            let o = headers[i].frameOrientations[0]!
            headers[i].frameOrientations = [Array(o[3..<6] + o[0..<3])]
        }
        let plan = DicomSeriesAssembler.plan(headers)
        #expect(plan.plans.count == 2)
        #expect(plan.plans.map(\.slices.count).sorted() == [12, 23])
        #expect(plan.plans.allSatisfy { $0.warnings.contains { $0.contains("split into separate volumes") } })
    }

    @Test func limitsAreCheckedBeforeDecoding() throws {
        let limits = IntakeLimits(maxFileBytes: 1 << 30, maxPixels: 256 * 256 * 10, maxFrames: 100)
        let result = ScanReader.read(Self.series, limits: limits)
        #expect(result.volumes.isEmpty)
        #expect(result.failures.count == 35)
        #expect(result.failures.allSatisfy { $0.reason == .tooLarge })
    }
}
