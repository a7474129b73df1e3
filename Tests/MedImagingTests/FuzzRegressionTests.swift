import Foundation
import Testing
@testable import MedImaging

/// Inputs the fuzzer (fuzz/run.sh) found that once crashed, read out of bounds or exhausted memory: each must
/// now end in a volume or a reason code, through both the file and the in-memory entry points.
struct FuzzRegressionTests {
    static let directory = Fixtures.root.deletingLastPathComponent().appendingPathComponent("fuzz/regressions")

    static var inputs: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
            .sorted { $0.path < $1.path }
    }

    @Test func regressionsArePresent() { #expect(Self.inputs.count >= 3) }

    @Test(arguments: inputs)
    func handledWithoutCrashing(_ url: URL) throws {
        let result = ScanReader.read(url)
        #expect(result.volumes.count + result.failures.count == 1)
        #expect(result.failures.allSatisfy { !$0.message.isEmpty })

        let bytes = try Data(contentsOf: url)
        do {
            let file = try DicomFile(bytes: bytes)
            let header = DicomHeader(file: file, url: url)
            let decoded = try DicomPixelDecoder.decode(file: file, header: header)
            #expect(result.volumes.first?.voxels == decoded.voxels, "file and memory entry points disagree")
        } catch let error as IntakeError {
            #expect(!error.message.isEmpty)
            #expect(result.volumes.isEmpty, "file entry point decoded what the memory entry point refused")
        }
    }
}
