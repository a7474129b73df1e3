import Foundation
import NumPyFormat
import Testing

/// Drives the real `medlens` binary, as a user would.
struct MedlensCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A binary built beside this test bundle (debug or release, whichever `swift test` built).
    static func binary(_ name: String) -> URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle.deletingLastPathComponent().appendingPathComponent(name),
                          repository.appendingPathComponent(".build/debug/" + name)]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    static func run(_ arguments: [String], tool: String = "medlens", environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = binary(tool)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    static func fixture(_ path: String) -> String { repository.appendingPathComponent("fixtures/" + path).path }

    @Test func inspectPrintsWhatWasRead() throws {
        let result = try Self.run(["inspect", Self.fixture("dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag")])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let volumes = try #require(json["volumes"] as? [[String: Any]])
        #expect(volumes.count == 1)
        #expect(volumes[0]["shape"] as? [Int] == [1, 35, 256, 256])
        #expect(volumes[0]["kind"] as? String == "dicom-series")
        #expect(volumes[0]["files"] as? Int == 35)
    }

    @Test func inspectGivesTheReasonAndExitStatus2ForBadInput() throws {
        let result = try Self.run(["inspect", Self.fixture("dicom/pydicom/MR_truncated.dcm")])
        #expect(result.status == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let failures = try #require(json["failures"] as? [[String: Any]])
        #expect(failures.first?["reason"] as? String == "truncated")
    }

    @Test func exportWritesTheVolumeAsNPY() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("ct.npy")
        let result = try Self.run(["export", Self.fixture("dicom/dcmqi/segmentations/ct-3slice"), "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let array = try NPYArray.read(from: out)
        #expect(array.shape == [1, 3, 512, 512])
        #expect((array.data.min() ?? 0) < -900)  // air in Hounsfield units: the rescale was applied
    }

    @Test func renderWritesSliceAndEnFacePNGs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("oct.png")
        let result = try Self.run(["render", Self.fixture("oct/test_volume.vol"), "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let written = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(written.contains { $0.hasSuffix("oct-enface-1.png") })
        for path in written {
            let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 8)
            #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(path) is not a PNG")
        }
    }
}
