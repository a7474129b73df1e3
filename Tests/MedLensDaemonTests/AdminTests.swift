import Foundation
import DaemonTestSupport
import MedLensDaemon
import Testing

@Suite(.serialized) struct AdminTests {
    @Test func quarantineListShowReplayAndStatus() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("MR_truncated.dcm")
        #expect(waitUntil(20) { daemon.files(under: daemon.quarantine).count == 2 })

        let admin = try SpoolAdmin(config: daemon.config)
        let list = try admin.quarantineList()
        #expect(list.count == 1)
        let record = try #require(list.first)
        #expect(record.reason == "truncated" && record.file == "MR_truncated.dcm")
        #expect(try admin.quarantineShow(record.job) == record)
        #expect(throws: SpoolError.self) { try admin.quarantineShow("../../etc") }

        let before = try admin.status()
        #expect(before.jobsByState["quarantined"] == 1)
        #expect(before.lastErrors.map(\.reason) == ["truncated"])

        // Replayed: the input goes back through the inbox as a new job and is quarantined again.
        try admin.quarantineReplay(record.job)
        #expect(waitUntil(20) { (try? admin.quarantineList().count) == 1 && (try? admin.quarantineList().first?.job) != record.job })
        let again = try #require(try admin.quarantineList().first)
        #expect(again.file == "replay-\(record.job)-MR_truncated.dcm")
        #expect(FileManager.default.fileExists(atPath: daemon.root.appendingPathComponent("spool/state/replayed/\(record.job)/error.json").path))
        let after = try admin.status()
        #expect(after.jobsByState["replayed"] == 1 && after.jobsByState["quarantined"] == 1 && after.queueDepth == 0)
    }
}
