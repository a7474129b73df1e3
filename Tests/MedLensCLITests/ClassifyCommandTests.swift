import DaemonTestSupport
import Foundation
import Testing

/// `medlens classify`: the daemon's pipeline once, on files given by hand.
struct ClassifyCommandTests {
    typealias CLI = MedlensCommandTests

    /// Routed by the daemon's configuration to the models in its store; each document follows the schema.
    @Test func routesWithTheConfigurationAndPrintsSchemaValidFindings() throws {
        let daemon = try DaemonHarness()  // its configuration and store; the daemon itself is not started
        let out = daemon.root.appendingPathComponent("out")
        let result = try CLI.run(["classify", CLI.fixture("dicom/fo-dicom/CR-MONO1-10-chest"), CLI.fixture("photo/1410_left.jpg"),
                                  CLI.fixture("dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag"),
                                  "--config", daemon.configFile.path, "--out", out.path, "--explain"])
        #expect(result.status == 0, "\(result.stderr)")
        let documents = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(documents.map { ($0["models"] as? [[String: Any]])?.first?["name"] as? String } == ["chest-test", "fundus-test", "volume-test"])
        #expect(documents.map { $0["route"] as? String } == ["chest", "photo", "volume"])
        #expect(documents.map { ($0["input"] as? [String: Any])?["completeness"] as? String } == ["single", "single", "as_given"])
        let schema = try FindingsSchema()
        for document in documents {
            #expect(schema.violations(of: try JSONSerialization.data(withJSONObject: document)) == [])
        }
        // --out: the outbox layout, one findings.json per series.
        let written = daemon.files(under: out).filter { $0.hasSuffix("findings.json") }
        #expect(written.count == 3)
        let series = try #require(documents[2]["study"] as? [String: Any])
        #expect(written.contains("\(series["studyInstanceUID"] as? String ?? "?")/\(series["seriesInstanceUID"] as? String ?? "?")/findings.json"))
        // --explain: every finding explained; the overlays it names are written beside its findings.json.
        let overlays = Set(daemon.files(under: out).filter { $0.hasSuffix(".png") }.map { ($0 as NSString).lastPathComponent })
        for document in documents {
            for finding in document["findings"] as? [[String: Any]] ?? [] {
                let explanation = try #require(finding["explanation"] as? [String: Any])
                #expect((explanation["overlays"] as? [String] ?? []).allSatisfy(overlays.contains))
            }
        }
    }

    /// --model takes a package folder: every scan goes to it; a 3D model on a 2D image is reported as skipped.
    @Test func modelPackageRunsOnEveryScanAndSaysWhatItCannotTake() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-classify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let package = root.appendingPathComponent("volume")
        try TestModels.writePackage(TestModels.volume, version: "7", seed: 5, to: package)
        let result = try CLI.run(["classify", CLI.fixture("photo/1410_left.jpg"), CLI.fixture("dicom/pydicom-data/emri_small.dcm"),
                                  "--model", package.path, "--config", root.appendingPathComponent("none.toml").path])
        #expect(result.status == 0, "\(result.stderr)")
        let documents = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(documents.count == 2)
        let photo = documents[0], volume = documents[1]
        #expect((photo["findings"] as? [Any])?.isEmpty == true)
        #expect((photo["skipped"] as? [[String: Any]])?.first?["reason"] as? String == "needs_volume")
        #expect(volume["route"] as? String == "model")
        #expect((volume["models"] as? [[String: Any]])?.first?["version"] as? String == "7")
        #expect((volume["findings"] as? [[String: Any]])?.map { $0["label"] as? String } == ["normal", "hyperplasia"])
    }

    @Test func unreadableInputExitsWith2AndSaysWhy() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-classify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try TestModels.writePackage(TestModels.chest, version: "1", seed: 1, to: root.appendingPathComponent("chest"))
        let result = try CLI.run(["classify", CLI.fixture("daemon/MR_truncated.dcm"), "--model", root.appendingPathComponent("chest").path,
                                  "--config", root.appendingPathComponent("none.toml").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("truncated"), "\(result.stderr)")
    }
}
