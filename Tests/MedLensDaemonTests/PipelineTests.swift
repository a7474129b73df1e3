import DaemonTestSupport
import Foundation
import Testing

/// Every kind of input dropped into the inbox of the real daemon: findings that follow the schema, or a
/// quarantine record; inputs = archived + quarantined.
@Suite(.serialized) struct PipelineTests {
    static let series = "dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag"

    static func seriesFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: DaemonHarness.fixture(series).path).sorted()
    }

    @Test func eachFixtureKindYieldsSchemaValidFindingsOrAQuarantineRecord() throws {
        let daemon = try DaemonHarness(sections: "[pipeline]\nexplain = \"all\"")
        try daemon.start()
        try daemon.drop(fixture: "dicom/fo-dicom/CR-MONO1-10-chest", as: "chest.dcm")
        try daemon.drop(fixture: "dicom/pydicom-data/emri_small.dcm", as: "multiframe.dcm")
        try daemon.drop(fixture: "oct/Willis_B_716_0.vol", as: "eye.vol")
        try daemon.drop(fixture: "oct/test_volume.vol", as: "volume.vol")
        try daemon.drop(fixture: "photo/1410_left.jpg", as: "fundus.jpg")
        try daemon.drop("MR_truncated.dcm", as: "broken.dcm")
        // The series arrives file by file, 50 ms apart: one series, not 35 results.
        let slices = try Self.seriesFiles()
        for (index, name) in slices.enumerated() {
            try daemon.drop(fixture: "\(Self.series)/\(name)", as: "series/slice-\(index).dcm")
            usleep(50_000)
        }
        let inputs = 6 + slices.count
        #expect(waitUntil(90) { daemon.archived().count + daemon.quarantined().count == inputs }, "\(daemon.log)")
        usleep(300_000)

        // Nothing lost, nothing doubled.
        #expect(daemon.archived().count == inputs - 1)
        #expect(daemon.quarantined() == ["broken.dcm"])
        let record = try #require(try daemon.quarantineRecords().first)
        #expect(record["reason"] as? String == "truncated")

        let schema = try FindingsSchema()
        for path in daemon.files(under: daemon.outbox) where path.hasSuffix("findings.json") {
            #expect(schema.violations(of: try Data(contentsOf: daemon.outbox.appendingPathComponent(path))) == [], "\(path)")
        }
        let documents = Array(try daemon.findings().values)
        #expect(documents.count == 6)
        func document(model: String) -> [String: Any]? {
            documents.first { (($0["models"] as? [[String: Any]]) ?? []).contains { $0["name"] as? String == model } && ($0["input"] as? [String: Any])?["kind"] as? String != "dicom-series" }
        }
        func input(_ d: [String: Any]?) -> [String: Any] { d?["input"] as? [String: Any] ?? [:] }

        let chest = try #require(documents.first { input($0)["kind"] as? String == "dicom" })
        #expect(chest["route"] as? String == "chest")
        #expect(input(chest)["completeness"] as? String == "single")
        #expect((input(chest)["evidence"] as? [String: Any])?["source"] as? String == "Modality")
        #expect((chest["findings"] as? [[String: Any]])?.count == 2)

        let multiframe = try #require(documents.first { input($0)["kind"] as? String == "dicom-multiframe" })
        #expect(multiframe["route"] as? String == "volume")
        #expect(input(multiframe)["completeness"] as? String == "complete")
        #expect((input(multiframe)["evidence"] as? [String: Any])?["source"] as? String == "NumberOfFrames")

        let series = try #require(documents.first { input($0)["kind"] as? String == "dicom-series" })
        #expect(input(series)["files"] as? Int == slices.count)
        #expect(input(series)["shape"] as? [Int] == [1, 35, 256, 256])
        #expect(input(series)["completeness"] as? String == "quiet_period")
        #expect(series["route"] as? String == "volume")

        // A Spectralis file with one B-scan: the 2D OCT model takes it as it is.
        let octs = documents.filter { input($0)["kind"] as? String == "oct-vol" }
        #expect(octs.count == 2)
        let single = try #require(octs.first { (input($0)["shape"] as? [Int])?[1] == 1 })
        #expect((single["models"] as? [[String: Any]])?.first?["sampling"] == nil)
        #expect((single["warnings"] as? [String])?.contains { $0.contains("oct-vol-slo volume held by rule slo") } == true)
        // With several B-scans the 2D model ran on the central ones, and the findings say which and how combined.
        let oct = try #require(octs.first { ((input($0)["shape"] as? [Int])?[1] ?? 0) > 1 })
        let octModel = try #require((oct["models"] as? [[String: Any]])?.first)
        let sampling = try #require(octModel["sampling"] as? [String: Any])
        let depth = try #require((input(oct)["shape"] as? [Int])?[1])
        #expect(sampling["of"] as? Int == depth && (sampling["slices"] as? [Int])?.count == min(5, depth))
        #expect(sampling["aggregation"] as? String == "mean")
        #expect((oct["findings"] as? [[String: Any]])?.allSatisfy { ($0["slice"] as? Int).map { (sampling["slices"] as? [Int])?.contains($0) == true } == true } == true)

        let photo = try #require(documents.first { input($0)["kind"] as? String == "jpeg" })
        #expect(photo["route"] as? String == "photo")
        #expect((photo["models"] as? [[String: Any]])?.first?["name"] as? String == "fundus-test")
        for d in documents {
            let model = try #require((d["models"] as? [[String: Any]])?.first)
            #expect(model["version"] as? String == "1" && (model["sha256"] as? String)?.count == 64 && model["backend"] as? String == "cpu")
            #expect((d["timings"] as? [String: Double])?["inference"] != nil)
        }
        #expect(daemon.files(under: daemon.outbox, hidden: true).filter { $0.hasPrefix(".tmp/") }.isEmpty)
        #expect(daemon.files(under: daemon.work, hidden: true).isEmpty)

        // explain = "all": every finding is explained; overlays lie beside findings.json and are PNGs.
        try expectOverlaysPresent(daemon)
        for d in documents {
            for finding in d["findings"] as? [[String: Any]] ?? [] {
                let explanation = try #require(finding["explanation"] as? [String: Any], "\(finding)")
                #expect(explanation["method"] as? String == "gradcam" && explanation["targetLayer"] as? String == "conv3")
            }
        }
        let overlays = daemon.files(under: daemon.outbox).filter { $0.hasSuffix(".png") }
        #expect(!overlays.isEmpty)
        for path in overlays {
            let head = try FileHandle(forReadingFrom: daemon.outbox.appendingPathComponent(path)).read(upToCount: 4)
            #expect(head == Data([0x89, 0x50, 0x4E, 0x47]), "\(path)")
        }
        // The 2D model on B-scans was explained on the slice where each label peaked: the peak names that slice.
        for finding in oct["findings"] as? [[String: Any]] ?? [] {
            let explanation = try #require(finding["explanation"] as? [String: Any])
            if let peak = explanation["peak"] as? [Int] { #expect(peak.count == 3 && peak[2] == finding["slice"] as? Int) }
            #expect((explanation["overlays"] as? [String])?.allSatisfy { $0.hasPrefix("oct-test-") && $0.contains("-slice") } == true)
        }
        // The 3D model's maps are volumes: peaks carry a slice.
        for finding in series["findings"] as? [[String: Any]] ?? [] {
            if let peak = (finding["explanation"] as? [String: Any])?["peak"] as? [Int] { #expect(peak.count == 3) }
        }
    }

    /// A slice held back arrives after the series was published: the series runs again with it, and the new
    /// result names the one it replaces. The first result had a gap where the slice was missing.
    @Test func lateImageRerunsTheSeriesAndTheResultNamesWhatItReplaces() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        let slices = try Self.seriesFiles()
        let late = slices.count / 2
        for (index, name) in slices.enumerated() where index != late {
            try daemon.drop(fixture: "\(Self.series)/\(name)", as: "slice-\(index).dcm")
        }
        #expect(waitUntil(60) { daemon.archived().count == slices.count - 1 })
        let first = try #require(try daemon.findings().values.first)
        let firstInput = try #require(first["input"] as? [String: Any])
        #expect(firstInput["files"] as? Int == slices.count - 1)
        #expect(firstInput["completeness"] as? String == "partial")
        #expect((firstInput["evidence"] as? [String: Any])?["gaps"] as? Int == 1)
        #expect(first["replaces"] == nil)

        try daemon.drop(fixture: "\(Self.series)/\(slices[late])", as: "slice-\(late).dcm")
        #expect(waitUntil(60) { daemon.archived().count == slices.count && (try? daemon.findings().values.first?["jobID"] as? String) != first["jobID"] as? String })
        let documents = try daemon.findings()
        #expect(documents.count == 1)
        let second = try #require(documents.values.first)
        #expect(second["replaces"] as? String == first["jobID"] as? String)
        let input = try #require(second["input"] as? [String: Any])
        #expect(input["files"] as? Int == slices.count)
        #expect(input["completeness"] as? String == "quiet_period")
        #expect((input["evidence"] as? [String: Any])?["gaps"] as? Int == 0)
        #expect(daemon.quarantined().isEmpty)
    }

    /// The memory a job would need is estimated from its header before anything is decoded.
    @Test func jobOverTheMemoryBudgetIsQuarantinedBeforeDecoding() throws {
        let daemon = try DaemonHarness(extra: "job_memory_bytes = 1048576")
        try daemon.start()
        try daemon.drop(fixture: "dicom/fo-dicom/CR-MONO1-10-chest", as: "chest.dcm")  // 440 x 440: about 2.2 MiB
        try daemon.drop("IMG0001.dcm")  // 38 x 23: fits
        #expect(waitUntil(20) { daemon.quarantined().count == 1 && daemon.archived().count == 1 })
        let record = try #require(try daemon.quarantineRecords().first)
        #expect(record["reason"] as? String == "too_large" && record["stage"] as? String == "read")
        #expect((record["message"] as? String)?.contains("intake.job_memory_bytes") == true)
        #expect(daemon.quarantined() == ["chest.dcm"])
    }
}
