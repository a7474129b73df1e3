import DaemonTestSupport
import Foundation
import Glibc
import Testing

@Suite(.serialized) struct SystemdTests {
    @Test func notifiesReadyStatusWatchdogReloadAndStop() throws {
        let daemon = try DaemonHarness()
        let socket = try NotifySocket(in: daemon.root)
        try daemon.start(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])

        let ready = socket.receive(within: 10) { $0.contains("READY=1") }
        #expect(ready?.contains("STATUS=watching 1 inbox(es)") == true)
        // The status line names the models served, with their versions.
        #expect(ready?.contains("models chest-test@1,fundus-test@1,oct-test@1,volume-test@1") == true, "\(ready ?? "")")
        #expect(socket.receive(within: 5) { $0 == "WATCHDOG=1" } != nil)

        try daemon.drop("IMG0001.dcm")
        let status = socket.receive(within: 20) { $0.hasPrefix("STATUS=") && $0.contains("processed 1;") }
        #expect(status?.contains("queue 0;") == true && status?.contains(" archived;") == true, "\(status ?? "")")

        // Prometheus text on the metrics socket: queue depth, jobs by outcome, stage latency, model versions.
        let metrics = try #require(daemon.scrapeMetrics())
        #expect(metrics.hasPrefix("HTTP/1.0 200 OK"))
        #expect(metrics.contains("medlens_queue_depth 0"))
        #expect(metrics.contains(#"medlens_jobs_total{outcome="archived",reason=""} 1"#))
        #expect(metrics.contains(#"medlens_stage_seconds_count{stage="inference"} 1"#))
        #expect(metrics.contains(#"medlens_model_info{model="chest-test",version="1""#))

        // SIGHUP with an invalid file: refused, the daemon keeps running and says ready again.
        let good = try String(contentsOf: daemon.configFile, encoding: .utf8)
        try (good + "\nunknown_key = 1\n").write(to: daemon.configFile, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(socket.receive(within: 5) { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") } != nil)
        #expect(socket.receive(within: 5) { $0.contains("READY=1") } != nil)
        #expect(waitUntil(5) { daemon.log.contains("reload refused") && daemon.log.contains("unknown_key") })
        // SIGHUP with a valid change: applied.
        try good.replacingOccurrences(of: "settle_seconds = 0.3", with: "settle_seconds = 0.7")
            .write(to: daemon.configFile, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(socket.receive(within: 5) { $0.contains("READY=1") } != nil)
        #expect(waitUntil(5) { daemon.log.contains("reloaded settle_seconds=0.7") })

        daemon.signal(SIGTERM)
        #expect(socket.receive(within: 10) { $0.contains("STOPPING=1") } != nil)
        let process = try #require(daemon.process)
        #expect(waitUntil(10) { !process.isRunning })
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    /// SIGTERM while files wait: intake stops, nothing is lost, and the next start takes what was left.
    @Test func sigtermStopsIntakeAndRestartTakesTheRest() throws {
        let daemon = try DaemonHarness(settleSeconds: 3)
        try daemon.start()
        try daemon.drop("IMG0002.dcm")
        usleep(300_000)
        daemon.signal(SIGTERM)
        let process = try #require(daemon.process)
        #expect(waitUntil(10) { !process.isRunning })
        #expect(process.terminationStatus == 0)
        #expect(daemon.files(under: daemon.inbox) == ["IMG0002.dcm"])
        try daemon.start()
        #expect(waitUntil(20) { daemon.files(under: daemon.archive).count == 1 })
        #expect(daemon.files(under: daemon.inbox).isEmpty)
    }

    /// SIGTERM while a series waits for its quiet period: the daemon exits at once (nothing is in hand), the
    /// taken slices stay journalled in its work area, and the next start publishes the whole series.
    @Test func sigtermParksACollectingSeriesAndTheNextStartFinishesIt() throws {
        let daemon = try DaemonHarness(quietSeconds: 4, sections: "[service]\nstop_seconds = 5")
        try daemon.start()
        let folder = "dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag"
        let slices = try FileManager.default.contentsOfDirectory(atPath: DaemonHarness.fixture(folder).path).sorted()
        for (index, name) in slices.prefix(10).enumerated() { try daemon.drop(fixture: "\(folder)/\(name)", as: "s\(index).dcm") }
        #expect(waitUntil(10) { daemon.files(under: daemon.work).count == 10 })
        let stopped = Date()
        daemon.signal(SIGTERM)
        let process = try #require(daemon.process)
        #expect(waitUntil(10) { !process.isRunning })
        #expect(Date().timeIntervalSince(stopped) < 5)
        #expect(process.terminationStatus == 0)
        #expect(daemon.files(under: daemon.outbox).isEmpty && daemon.files(under: daemon.work).count == 10)
        try daemon.start()
        #expect(waitUntil(20) { daemon.archived().count == 10 })
        let document = try #require(try daemon.findings().values.first)
        #expect((document["input"] as? [String: Any])?["files"] as? Int == 10)
    }
}
