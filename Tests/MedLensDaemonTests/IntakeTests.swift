import Foundation
import Glibc
import DaemonTestSupport
import MedLensDaemon
import Testing

@Suite(.serialized) struct IntakeTests {
    @Test func dicomFileIsPublishedAndArchived() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("IMG0001.dcm")
        #expect(waitUntil(20) { daemon.files(under: daemon.archive).count == 1 })

        let outputs = daemon.files(under: daemon.outbox)
        #expect(outputs.count == 1)
        let output = try #require(outputs.first)
        #expect(output.hasSuffix("/findings.json"))
        #expect(output.split(separator: "/").count == 3)   // <StudyUID>/<SeriesUID>/findings.json
        let data = try Data(contentsOf: daemon.outbox.appendingPathComponent(output))
        #expect(try FindingsSchema().violations(of: data) == [])
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let study = document?["study"] as? [String: Any]
        #expect(study?["modality"] as? String == "CT")
        let input = document?["input"] as? [String: Any]
        #expect(input?["shape"] as? [Int] == [1, 1, 38, 23])
        // One slice of a series without a count: processed after the quiet period, and it says so.
        #expect(input?["completeness"] as? String == "quiet_period")
        #expect(document?["route"] as? String == "fallback")
        #expect((document?["models"] as? [[String: Any]])?.first?["name"] as? String == "chest-test")
        #expect((document?["findings"] as? [[String: Any]])?.map { $0["label"] as? String } == ["pneumonia", "effusion"])
        #expect(output.hasPrefix("\(study?["studyInstanceUID"] as? String ?? "?")/\(study?["seriesInstanceUID"] as? String ?? "?")/"))

        let archived = try #require(daemon.files(under: daemon.archive).first)
        #expect(archived.hasSuffix("/IMG0001.dcm"))
        #expect(try Data(contentsOf: daemon.archive.appendingPathComponent(archived))
                == Data(contentsOf: DaemonHarness.fixtures.appendingPathComponent("IMG0001.dcm")))
        #expect(daemon.files(under: daemon.inbox, hidden: true).isEmpty)
        #expect(daemon.files(under: daemon.outbox, hidden: true).filter { $0.hasPrefix(".tmp") }.isEmpty)
    }

    @Test func malformedFileAndSymlinkAreQuarantinedWithReasons() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try FileManager.default.createDirectory(at: daemon.inbox.appendingPathComponent("nested"), withIntermediateDirectories: true)
        usleep(200_000)
        try daemon.drop("MR_truncated.dcm", as: "nested/MR_truncated.dcm")
        try FileManager.default.createSymbolicLink(atPath: daemon.inbox.appendingPathComponent("link.dcm").path,
                                                   withDestinationPath: DaemonHarness.fixtures.appendingPathComponent("IMG0001.dcm").path)
        #expect(waitUntil(20) { daemon.files(under: daemon.quarantine).filter { $0.hasSuffix("error.json") }.count == 2 })

        let records = try daemon.files(under: daemon.quarantine).filter { $0.hasSuffix("error.json") }.map {
            try JSONSerialization.jsonObject(with: Data(contentsOf: daemon.quarantine.appendingPathComponent($0))) as? [String: Any] ?? [:]
        }
        let byFile = Dictionary(uniqueKeysWithValues: records.map { ($0["file"] as? String ?? "", $0) })
        let malformed = try #require(byFile["MR_truncated.dcm"])
        #expect(malformed["reason"] as? String == "truncated")
        #expect(malformed["stage"] as? String == "read")
        #expect(malformed["source"] as? String == "nested/MR_truncated.dcm")
        #expect((malformed["message"] as? String)?.isEmpty == false)
        #expect(malformed["time"] is String)
        let job = try #require(malformed["job"] as? String)
        #expect(try Data(contentsOf: daemon.quarantine.appendingPathComponent("\(job)/MR_truncated.dcm"))
                == Data(contentsOf: DaemonHarness.fixtures.appendingPathComponent("MR_truncated.dcm")))
        #expect(byFile["link.dcm"]?["reason"] as? String == "refused_symlink")
        // The link itself is kept, never followed.
        let linkJob = try #require(byFile["link.dcm"]?["job"] as? String)
        let kept = daemon.quarantine.appendingPathComponent("\(linkJob)/link.dcm").path
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: kept)) != nil)
        #expect(daemon.files(under: daemon.outbox).isEmpty)
        #expect(daemon.files(under: daemon.archive).isEmpty)
    }

    /// A careless producer appends in bursts, closing the file each time (so each burst is a close-write):
    /// the daemon must wait for the whole file.
    @Test func fileTrickledIntoInboxIsNotTakenBeforeComplete() throws {
        let daemon = try DaemonHarness(settleSeconds: 1.0)
        try daemon.start()
        let data = try Data(contentsOf: DaemonHarness.fixtures.appendingPathComponent("IMG0001.dcm"))
        let target = daemon.inbox.appendingPathComponent("slow.dcm")
        FileManager.default.createFile(atPath: target.path, contents: nil)
        let chunk = 256
        var takenEarly = false
        for start in stride(from: 0, to: data.count, by: chunk) {
            let handle = try FileHandle(forWritingTo: target)
            handle.seekToEndOfFile()
            handle.write(data[start..<min(start + chunk, data.count)])
            try handle.close()
            usleep(300_000)
            if !FileManager.default.fileExists(atPath: target.path) { takenEarly = true; break }
        }
        #expect(!takenEarly)
        #expect(waitUntil(20) { daemon.files(under: daemon.archive).count == 1 })
        let archived = try #require(daemon.files(under: daemon.archive).first)
        #expect(try Data(contentsOf: daemon.archive.appendingPathComponent(archived)) == data)
        #expect(daemon.files(under: daemon.outbox).count == 1)
        #expect(daemon.files(under: daemon.quarantine).isEmpty)
    }
}
