import Foundation
import MedImaging
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

    /// Every key we write is declared by docs/findings.schema.json, and every required key is written.
    @Test func encodedDocumentFollowsTheSchema() throws {
        let schemaData = try Data(contentsOf: Self.repository.appendingPathComponent("docs/findings.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: schemaData) as? [String: Any])
        let encoded = try #require(try JSONSerialization.jsonObject(with: Self.document().encoded()) as? [String: Any])
        #expect((schema["properties"] as? [String: Any])?["schema"].flatMap { ($0 as? [String: Any])?["const"] as? String } == FindingsDocument.schemaID)
        check(encoded, against: schema, path: "$")
    }

    private func check(_ value: Any, against schema: [String: Any], path: String) {
        if let object = value as? [String: Any], let properties = schema["properties"] as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] {
                #expect(object[key] != nil, "\(path).\(key) is required by the schema")
            }
            for (key, child) in object {
                guard let childSchema = properties[key] as? [String: Any] else {
                    Issue.record("\(path).\(key) is not in the schema")
                    continue
                }
                check(child, against: childSchema, path: "\(path).\(key)")
            }
        } else if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, element) in array.enumerated() { check(element, against: items, path: "\(path)[\(i)]") }
        } else if let options = schema["enum"] as? [String] {
            #expect(options.contains(value as? String ?? ""), "\(path) = \(value) is not one of \(options)")
        }
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
