import Foundation
import MedImaging
import DaemonTestSupport
import Testing
@testable import MedLensCore

struct FindingsDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document() throws -> FindingsDocument {
        // Built from a real scan, as the daemon will.
        let volume = try #require(ScanReader.read(repository.appendingPathComponent("fixtures/dicom/fo-dicom/CR-MONO1-10-chest")).volumes.first)
        let explanation = Explanation(method: "gradcam", targetLayer: "layer4", mapMin: 0, mapMax: 2.5, mapMean: 0.4, empty: false,
                                      peak: [120, 200], overlays: ["pneumonia.gradcam.png"])
        return FindingsDocument(
            jobID: "job-1",
            study: StudyReference(studyInstanceUID: volume.metadata.studyInstanceUID, seriesInstanceUID: volume.metadata.seriesInstanceUID,
                                  sopInstanceUIDs: volume.metadata.sopInstanceUIDs, modality: volume.metadata.modality,
                                  patient: PatientKey.keyedHash(key: Data("site key".utf8)).reference(for: volume.patient.patientID)),
            input: InputDescription(kind: volume.metadata.kind, files: 1, shape: volume.shape.array, spacing: volume.geometry.spacing,
                                    completeness: .single),
            models: [ModelReference(name: "chest-pneumonia", version: "1", sha256: String(repeating: "ab", count: 32), backend: "cpu")],
            findings: [Finding(model: "chest-pneumonia", label: "pneumonia", logit: 0.8, probability: 0.69, threshold: 0.5,
                               explanation: explanation)],
            timings: ["read": 3.5], warnings: volume.metadata.warnings, createdAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func roundTripsThroughJSON() throws {
        let original = try Self.document()
        #expect(try FindingsDocument.decode(original.encoded()) == original)
        #expect(original.findings[0].positive)
    }

    /// The document validates against docs/findings.schema.json (every keyword the schema uses is checked).
    @Test func encodedDocumentFollowsTheSchema() throws {
        let schema = try FindingsSchema()
        #expect(schema.violations(of: try Self.document().encoded()) == [])
        var evidenced = try Self.document()
        evidenced.input.completeness = .quietPeriod
        evidenced.input.evidence = CompletenessEvidence(source: nil, expected: nil, received: 35, quietSeconds: 10.2, gaps: 0)
        evidenced.models[0].sampling = .init(slices: [2, 3, 4], of: 7, aggregation: .max)
        evidenced.skipped = [SkippedModel(model: "volume-3d", reason: "needs_volume", message: "a 3D model")]
        evidenced.replaces = "20261202T000000-0000abcd"
        #expect(schema.violations(of: try evidenced.encoded()) == [])
    }

    /// The validator is not a rubber stamp: what the schema forbids, it reports.
    @Test func schemaViolationsAreFound() throws {
        let schema = try FindingsSchema()
        var json = try #require(try JSONSerialization.jsonObject(with: Self.document().encoded()) as? [String: Any])
        json["surprise"] = 1
        json["schemaVersion"] = 2
        var input = try #require(json["input"] as? [String: Any])
        input["completeness"] = "nearly"
        input["shape"] = [1, 2]
        json["input"] = input
        json.removeValue(forKey: "jobID")
        let violations = schema.violations(of: try JSONSerialization.data(withJSONObject: json))
        #expect(Set(violations.map { $0.components(separatedBy: ":")[0] })
                == ["$.surprise", "$.schemaVersion", "$.input.completeness", "$.input.shape", "$.jobID"], "\(violations)")
    }
}

struct PatientKeyTests {
    @Test func keyedHashIsHMACSHA256() {
        // RFC 4231, test case 2.
        let reference = PatientKey.keyedHash(key: Data("Jefe".utf8)).reference(for: "what do ya want for nothing?")
        #expect(reference == "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func plainAndOmitted() {
        #expect(PatientKey.plainID.reference(for: "E01") == "E01")
        #expect(PatientKey.omitted.reference(for: "E01") == nil)
        #expect(PatientKey.plainID.reference(for: "") == nil)
    }
}
