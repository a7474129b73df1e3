import Foundation
import DaemonTestSupport
import MedLensDaemon
import Testing

struct ConfigTests {
    /// The required [spool] table, 6 lines, for configurations written in tests.
    static let spool = """
        [spool]
        outbox = "/s/o"
        quarantine = "/s/q"
        archive = "/s/a"
        state = "/s/s"


        """

    @Test func shippedConfigurationIsValid() throws {
        let config = try ConfigLoader.load(file: DaemonHarness.packageRoot.appendingPathComponent("etc/medlens/medlens.toml").path)
        #expect(config.inboxes == [InboxConfig(name: "default", path: "/var/lib/medlens/inbox")])
        #expect(config.archiveMode == .keep)
        let spooled = config.placingSpool(under: "/srv/spool")
        #expect(spooled.inboxes[0].path == "/srv/spool/inbox" && spooled.state == "/srv/spool/state")
    }

    @Test func unknownKeysAndBadValuesAreNamedWithTheirLines() throws {
        let text = """
            [spool]
            outbox = "/s/o"
            quarantine = "/s/q"
            archive = "/s/a"
            state = "relative/state"

            [[inbox]]
            name = "CT Room"
            path = "/s/i"

            [intake]
            settle_seconds = -1
            colour = "blue"

            [archive]
            mode = "shred"
            """
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, file: "t.toml") }
        let issues = error?.issues.map { "\($0.line ?? 0) \($0.keyPath)" } ?? []
        #expect(issues.sorted() == ["12 intake.settle_seconds", "13 intake.colour", "16 archive.mode",
                                    "5 spool.state", "8 inbox[0].name"].sorted())
    }

    @Test func shippedRoutingSendsEachKindToItsDefaultModel() throws {
        let config = try ConfigLoader.load(file: DaemonHarness.packageRoot.appendingPathComponent("etc/medlens/medlens.toml").path)
        #expect(config.router.rules.map(\.name) == ["chest-radiograph", "oct", "oct-slo", "fundus-photo", "volume"])
        #expect(config.router.rules[0].models == ["chest-pneumonia", "chest-nih14"])
        #expect(Set(config.router.rules.flatMap(\.models)) == ["chest-pneumonia", "chest-nih14", "oct-kermany4", "fundus-odir8", "volume-adrenal3d"])
        #expect(config.router.fallback.isEmpty)
        #expect(config.backend == .auto && config.modelStore == "/var/lib/medlens/models")
        #expect(config.placingModels(at: "/srv/models").modelStore == "/srv/models")
    }

    @Test func anInboxMayHaveItsOwnFallback() throws {
        let text = Self.spool + """
            [[inbox]]
            name = "eyes"
            path = "/s/eyes"
            fallback = ["fundus"]

            [[inbox]]
            name = "other"
            path = "/s/other"

            [[route]]
            name = "chest"
            modalities = ["CR"]
            models = ["chest"]

            [routing]
            fallback = ["general"]
            """
        let config = try ConfigLoader.parse(text)
        #expect(config.router(for: "eyes").fallback == ["fundus"])
        #expect(config.router(for: "other").fallback == ["general"])
        #expect(config.router(for: "eyes").rules == config.router.rules)
        let spooled = config.placingSpool(under: "/srv")
        #expect(spooled.inboxes.map(\.path) == ["/srv/inbox/eyes", "/srv/inbox/other"] && spooled.inboxes[0].fallback == ["fundus"])
    }

    @Test func routesAndNewTablesAreValidatedWithTheirLines() throws {
        let text = Self.spool + """
            [[inbox]]
            name = "ct"
            path = "/s/i"
            fallback = ["bad name"]

            [[route]]
            name = "chest"
            modalities = "CR"
            models = ["chest"]
            hold = true

            [engine]
            backend = "tpu"

            [metrics]
            listen = "0.0.0.0:9464"

            [workers]
            max_batch = 0
            """
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, file: "t.toml") }
        let issues = error?.issues.map { "\($0.line ?? 0) \($0.keyPath)" } ?? []
        #expect(issues.sorted() == ["10 inbox[0].fallback", "12 route[0]", "14 route[0].modalities", "19 engine.backend",
                                    "22 metrics.listen", "25 workers.max_batch"].sorted(), "\(error?.description ?? "")")
    }

    @Test func syntaxErrorsCarryTheParserLine() {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse("[spool]\noutbox = \n", file: "t.toml") }
        #expect(error?.issues.first?.line == 2)
    }

    @Test func binaryRefusesInvalidConfigurationWithExitStatus78() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("medlensd-bad-\(UUID().uuidString).toml")
        try "[spool]\nsurprise = true\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
        process.arguments = ["--config", file.path, "--check"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 78)
        #expect(output.contains("line 2: spool.surprise: unknown key"))
    }
}
