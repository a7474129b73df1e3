import Foundation
import Glibc
import DaemonTestSupport
import MedLensDaemon
import Testing

@Suite(.serialized) struct RecoveryTests {
    /// 200 inputs flow while the daemon is killed with SIGKILL at random points, 50 times, and restarted; in the end every
    /// input has exactly one archive or quarantine record and nothing partial is left in the outbox.
    @Test func restartsAfterSIGKILLLoseAndDuplicateNothing() throws {
        // Deliberate kills are not crashes in a job: allow many attempts so none is quarantined as repeated_crash.
        let daemon = try DaemonHarness(settleSeconds: 0.1, extra: "max_attempts = 100")
        let fixtures = ["IMG0001.dcm", "IMG0002.dcm", "IMG0003.dcm", "MR_truncated.dcm"]
        let count = 200
        var generator = SystemRandomNumberGenerator()
        var dropped = 0
        for _ in 0..<50 {
            try daemon.start()
            for _ in 0..<4 where dropped < count {
                try daemon.drop(fixtures[dropped % fixtures.count], as: "input-\(dropped).dcm")
                dropped += 1
            }
            usleep(UInt32.random(in: 20_000...400_000, using: &generator))
            daemon.crash()
        }
        try daemon.start()
        func records(under folder: URL) -> [String] {
            daemon.files(under: folder).filter { !$0.hasSuffix("error.json") }.map { ($0 as NSString).lastPathComponent }
        }
        #expect(waitUntil(120) { records(under: daemon.archive).count + records(under: daemon.quarantine).count >= count })
        usleep(500_000)

        let archived = records(under: daemon.archive)
        let quarantined = records(under: daemon.quarantine)
        let all = (archived + quarantined).sorted()
        #expect(all == (0..<count).map { "input-\($0).dcm" }.sorted())   // each exactly once
        #expect(quarantined.count == count / 4)                          // the malformed ones, and only they
        #expect(Set(quarantined) == Set(stride(from: 3, to: count, by: 4).map { "input-\($0).dcm" }))
        let reasons = try daemon.files(under: daemon.quarantine).filter { $0.hasSuffix("error.json") }.map {
            String(decoding: try Data(contentsOf: daemon.quarantine.appendingPathComponent($0)), as: UTF8.self)
        }
        #expect(reasons.allSatisfy { $0.contains("\"truncated\"") }, "\(reasons)")
        #expect(daemon.files(under: daemon.inbox, hidden: true).isEmpty)
        #expect(daemon.files(under: daemon.work, hidden: true).isEmpty)
        #expect(daemon.files(under: daemon.outbox, hidden: true).filter { $0.hasPrefix(".tmp/") }.isEmpty)
        // The three slices share one series: one folder, one complete findings document for every copy of them.
        let outputs = daemon.files(under: daemon.outbox).filter { $0.hasSuffix("/findings.json") }
        #expect(outputs.count == 1)
        try expectOverlaysPresent(daemon)
        let findings = try #require(try daemon.findings().values.first)
        #expect((findings["input"] as? [String: Any])?["files"] as? Int == archived.count)
        #expect(try FindingsSchema().violations(of: Data(contentsOf: daemon.outbox.appendingPathComponent(try #require(outputs.first)))) == [])

        let status = try SpoolAdmin(config: daemon.config).status()
        #expect(status.inFlight == 0)
        #expect(status.jobsByState["archived"] == archived.count)
        #expect(status.jobsByState["quarantined"] == quarantined.count)
    }
}
