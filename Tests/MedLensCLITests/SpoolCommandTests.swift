import Foundation
import Glibc
import DaemonTestSupport
import Testing

/// `medlens quarantine list|show|replay` and `medlens status` on a real spool: medlensd quarantines a truncated
/// DICOM file, is stopped, and the commands read and replay what it left.
struct SpoolCommandTests {
    typealias CLI = MedlensCommandTests


    static func json(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

    @Test func quarantineListShowReplayAndStatus() throws {
        let daemon = try DaemonHarness()
        let spool = daemon.spool, config = daemon.configFile
        let inbox = daemon.inbox, quarantine = daemon.quarantine

        // No spool yet: a clear error, not an empty one made on the spot.
        let missing = try CLI.run(["status", "--spool", spool.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no spool at"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: spool.appendingPathComponent("state/journal.sqlite").path))

        // The daemon quarantines a truncated file, then stops.
        try daemon.start()
        try daemon.drop("MR_truncated.dcm")
        try #require(waitUntil(20) {
            let jobs = (try? FileManager.default.contentsOfDirectory(atPath: quarantine.path)) ?? []
            return jobs.count == 1 && FileManager.default.fileExists(atPath: quarantine.appendingPathComponent(jobs[0] + "/error.json").path)
        })
        daemon.signal(SIGTERM)
        let process = try #require(daemon.process)
        process.waitUntilExit()

        // list (--spool alone)
        let list = try CLI.run(["quarantine", "list", "--spool", spool.path])
        #expect(list.status == 0, "\(list.stderr)")
        let records = try #require(try Self.json(list.stdout) as? [[String: Any]])
        #expect(records.count == 1)
        let record = try #require(records.first)
        let job = try #require(record["job"] as? String)
        #expect(record["reason"] as? String == "truncated")
        #expect(record["file"] as? String == "MR_truncated.dcm")
        #expect(record["inbox"] as? String == "default")
        #expect(record["schema"] as? String == "medlens.quarantine/1")
        #expect(String(decoding: list.stdout, as: UTF8.self).contains("\n  {\n    \"file\""))  // pretty, sorted keys

        // show (--config with --spool, as medlensd was started)
        let show = try CLI.run(["quarantine", "show", job, "--config", config.path, "--spool", spool.path])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try #require(try Self.json(show.stdout) as? [String: Any])
        #expect(shown["job"] as? String == job)
        #expect(shown["reason"] as? String == "truncated")
        #expect(shown["stage"] as? String == "read")

        for unknown in ["20990101T000000-0000abcd", "../../etc"] {
            let bad = try CLI.run(["quarantine", "show", unknown, "--spool", spool.path])
            #expect(bad.status == 1)
            #expect(bad.stdout.isEmpty)
            #expect(bad.stderr.contains(unknown), "\(bad.stderr)")
        }

        // status before replay
        let before = try CLI.run(["status", "--spool", spool.path])
        #expect(before.status == 0, "\(before.stderr)")
        let statusBefore = try #require(try Self.json(before.stdout) as? [String: Any])
        #expect((statusBefore["jobsByState"] as? [String: Int])?["quarantined"] == 1)
        #expect(statusBefore["queueDepth"] as? Int == 0)
        let lastErrors = try #require(statusBefore["lastErrors"] as? [[String: Any]])
        #expect(lastErrors.map { $0["job"] as? String } == [job])
        #expect(lastErrors.map { $0["reason"] as? String } == ["truncated"])

        // replay: back to the inbox, the record to state/replayed/<job>/
        let replay = try CLI.run(["quarantine", "replay", job, "--spool", spool.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        let replayed = try #require(try Self.json(replay.stdout) as? [String: Any])
        let destination = inbox.appendingPathComponent("replay-\(job)-MR_truncated.dcm").path
        #expect(replayed["job"] as? String == job)
        #expect(replayed["replayedTo"] as? String == destination)
        #expect(FileManager.default.fileExists(atPath: destination))
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("state/replayed/\(job)/error.json").path))
        #expect(!FileManager.default.fileExists(atPath: quarantine.appendingPathComponent(job).path))

        let again = try CLI.run(["quarantine", "replay", job, "--spool", spool.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no quarantine record for \(job)"), "\(again.stderr)")

        let emptied = try CLI.run(["quarantine", "list", "--spool", spool.path])
        #expect((try Self.json(emptied.stdout) as? [Any])?.isEmpty == true)

        let after = try CLI.run(["status", "--config", config.path, "--spool", spool.path])
        #expect(after.status == 0, "\(after.stderr)")
        let statusAfter = try #require(try Self.json(after.stdout) as? [String: Any])
        #expect((statusAfter["jobsByState"] as? [String: Int])?["replayed"] == 1)
        #expect(statusAfter["waitingInInbox"] as? Int == 1)
        #expect(statusAfter["queueDepth"] as? Int == 1)
        // The models: what the store holds and what the daemon served, with versions and checksums.
        let models = try #require(statusAfter["models"] as? [[String: Any]])
        #expect(models.compactMap { $0["name"] as? String } == TestModels.all.map(\.name).sorted())
        #expect(models.allSatisfy { $0["current"] as? String == "1" && $0["served"] as? String == "1" && ($0["sha256"] as? String)?.count == 64 })
    }

    @Test func spoolOrConfigIsRequired() throws {
        let result = try CLI.run(["status"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--config FILE, --spool DIR"), "\(result.stderr)")
    }
}
