import Foundation
import Testing
@testable import MedImaging

/// Inputs the fuzzer (fuzz/run.sh) found that once crashed or exhausted memory: each must now be refused
/// with a reason code, through both the file and the in-memory entry points.
struct FuzzRegressionTests {
    static let directory = Fixtures.root.deletingLastPathComponent().appendingPathComponent("fuzz/regressions")

    static var inputs: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
            .sorted { $0.path < $1.path }
    }

    @Test func regressionsArePresent() { #expect(Self.inputs.count >= 3) }

    @Test(arguments: inputs)
    func refusedWithAReason(_ url: URL) throws {
        let result = ScanReader.read(url)
        #expect(result.volumes.isEmpty)
        #expect(result.failures.count == 1)

        let bytes = try Data(contentsOf: url)
        do {
            let file = try DicomFile(bytes: bytes)
            let header = DicomHeader(file: file, url: url)
            _ = try DicomPixelDecoder.decode(file: file, header: header)
            Issue.record("decoded a malformed input")
        } catch let error as IntakeError {
            #expect(!error.message.isEmpty)
        }
    }
}
