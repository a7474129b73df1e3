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

    /// Findings whose harm (an overrun, a leak, a 4 GB allocation) a Swift test cannot see: the refusal that
    /// prevents it is pinned instead, by reason and message.
    @Test(arguments: [
        ("ybr422_samples_unreadable_output_overflow.dcm", IntakeError.Reason.unsupportedPixelFormat, "SamplesPerPixel 3"),
        ("jpegls_fragment_length_890mb_leak.dcm", .truncated, "fragments claim"),
        ("jpegls_truncated_fragment_leak.dcm", .truncated, "fragments claim"),
        ("meta_group_length_value_4gb_alloc.dcm", .truncated, "(0002,0000) declares"),
        ("private_creator_length_4gb_alloc.dcm", .truncated, "declares"),
    ])
    func refusedBeforeTheHarm(_ name: String, _ reason: IntakeError.Reason, _ message: String) throws {
        let failure = try #require(ScanReader.read(Self.directory.appendingPathComponent(name)).failures.first)
        #expect(failure.reason == reason)
        #expect(failure.message.contains(message), "\(failure.message)")
    }

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
