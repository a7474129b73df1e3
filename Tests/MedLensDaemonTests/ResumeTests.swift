import Foundation
import DaemonTestSupport
@testable import MedLensDaemon
import Testing

/// Journal states left by a crash, set up directly, then resumed by the real daemon.
@Suite(.serialized) struct ResumeTests {
    /// Puts a fixture in `work/<job>/` with the journal saying `state`, as a crash would leave it.
    private func leaveJob(in daemon: DaemonHarness, fixture: String, state: JobState, attempts: Int) throws -> String {
        let layout = SpoolLayout(config: try daemon.config)
        try layout.prepare()
        let journal = try Journal(path: layout.journal)
        let id = JobID.make()
        let now = Date()
        try journal.insert(JobRecord(id: id, inbox: "default", source: fixture, name: fixture, state: state, attempts: attempts,
                                     outputs: nil, reason: nil, message: nil, stage: nil, createdAt: now, updatedAt: now))
        try FileManager.default.createDirectory(atPath: layout.workFolder(id), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: DaemonHarness.fixtures.appendingPathComponent(fixture).path,
                                         toPath: layout.workFolder(id) + "/" + fixture)
        return id
    }

    @Test func jobTheDaemonDiedInTooOftenIsQuarantinedAsRepeatedCrash() throws {
        let daemon = try DaemonHarness(extra: "max_attempts = 2")
        let id = try leaveJob(in: daemon, fixture: "IMG0001.dcm", state: .read, attempts: 2)
        try daemon.start()
        let record = daemon.quarantine.appendingPathComponent("\(id)/error.json")
        #expect(waitUntil(20) { FileManager.default.fileExists(atPath: record.path) })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: Any]
        #expect(json?["reason"] as? String == "repeated_crash")
        #expect(FileManager.default.fileExists(atPath: daemon.quarantine.appendingPathComponent("\(id)/IMG0001.dcm").path))
        #expect(daemon.files(under: daemon.outbox).isEmpty)
    }

    @Test func takenJobResumesToOneOutputAndArchive() throws {
        let daemon = try DaemonHarness()
        let id = try leaveJob(in: daemon, fixture: "IMG0002.dcm", state: .taken, attempts: 0)
        try daemon.start()
        #expect(waitUntil(20) { daemon.files(under: daemon.archive) == ["\(id)/IMG0002.dcm"] })
        let outputs = daemon.files(under: daemon.outbox, hidden: true).filter { !$0.hasPrefix(".tmp") }
        #expect(outputs.filter { $0.hasSuffix("/findings.json") }.count == 1 && outputs.filter { $0.hasSuffix("/.job") }.count == 1)
        // The folder names the run that wrote it, and the findings carry the same id.
        let marker = try #require(outputs.first { $0.hasSuffix("/.job") })
        let run = try String(contentsOf: daemon.outbox.appendingPathComponent(marker), encoding: .utf8)
        #expect(JobID.isValid(run))
        #expect(try daemon.findings().values.first?["jobID"] as? String == run)
        #expect(daemon.files(under: daemon.work, hidden: true).isEmpty)
    }

    /// A photo's original is deleted once its outputs are written; a series member's waits in the archive for
    /// late images (series.late_seconds), then the sweeper deletes it.
    @Test func deleteModeRemovesOriginalsOnceOutputsAreWritten() throws {
        let daemon = try DaemonHarness(sections: "[archive]\nmode = \"delete\"")
        try daemon.start()
        try daemon.drop(fixture: "photo/1410_left.jpg", as: "fundus.jpg")
        try daemon.drop("IMG0003.dcm")
        #expect(waitUntil(20) { (try? daemon.findings().count) == 2 && daemon.files(under: daemon.work, hidden: true).isEmpty })
        #expect(daemon.archived() == ["IMG0003.dcm"])
        #expect(daemon.files(under: daemon.inbox, hidden: true).isEmpty)
        #expect(try SpoolAdmin(config: daemon.config).status().jobsByState["archived"] == 2)
    }

    /// In delete mode a series' original is swept from the archive once its late window has passed.
    @Test func seriesOriginalsAreSweptAfterTheLateWindow() throws {
        let daemon = try DaemonHarness(series: "late_seconds = 1", sections: "[archive]\nmode = \"delete\"")
        try daemon.start()
        try daemon.drop("IMG0002.dcm")
        #expect(waitUntil(20) { (try? daemon.findings().count) == 1 })
        #expect(waitUntil(10) { daemon.archived().isEmpty && daemon.log.contains("swept originals=1") })
        #expect(daemon.files(under: daemon.work, hidden: true).isEmpty)
        #expect(try SpoolAdmin(config: daemon.config).status().jobsByState["archived"] == 1)
    }
}
