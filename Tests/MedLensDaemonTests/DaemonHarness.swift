import Foundation
import Glibc
import MedLensDaemon

/// Runs the real `medlensd` binary (built by `swift build --product medlensd`) on a fresh temporary spool.
final class DaemonHarness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = packageRoot.appendingPathComponent(".build/debug/medlensd").path
    static let fixtures = packageRoot.appendingPathComponent("fixtures/daemon")

    let root: URL
    let configFile: URL
    private(set) var process: Process?
    private let logFile: URL

    var inbox: URL { root.appendingPathComponent("spool/inbox") }
    var outbox: URL { root.appendingPathComponent("spool/outbox") }
    var archive: URL { root.appendingPathComponent("spool/archive") }
    var quarantine: URL { root.appendingPathComponent("spool/quarantine") }
    var work: URL { root.appendingPathComponent("spool/state/work") }

    init(settleSeconds: Double = 0.3, extra: String = "") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("medlensd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        configFile = root.appendingPathComponent("medlens.toml")
        logFile = root.appendingPathComponent("medlensd.log")
        let toml = """
            [spool]
            outbox = "/unused/outbox"
            quarantine = "/unused/quarantine"
            archive = "/unused/archive"
            state = "/unused/state"

            [[inbox]]
            name = "default"
            path = "/unused/inbox"

            [intake]
            settle_seconds = \(settleSeconds)
            \(extra)
            """
        try toml.write(to: configFile, atomically: true, encoding: .utf8)
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: root)
    }

    var config: DaemonConfig {
        get throws { try ConfigLoader.load(file: configFile.path).placingSpool(under: root.appendingPathComponent("spool").path) }
    }

    /// Starts the daemon and waits until its spool exists.
    func start(environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config", configFile.path, "--spool", root.appendingPathComponent("spool").path]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        env.merge(environment) { $1 }
        process.environment = env
        if !FileManager.default.fileExists(atPath: logFile.path) { FileManager.default.createFile(atPath: logFile.path, contents: nil) }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        _ = waitUntil(10) { FileManager.default.fileExists(atPath: self.work.path) }
    }

    func signal(_ number: Int32) { if let process { kill(process.processIdentifier, number) } }

    /// Kills with SIGKILL: no chance to finish anything.
    func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// A careful producer: writes under a hidden name, then renames into the inbox.
    func drop(_ fixture: String, as name: String? = nil) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(fixture))
        let hidden = inbox.appendingPathComponent(".\(UUID().uuidString)")
        try data.write(to: hidden)
        try FileManager.default.moveItem(at: hidden, to: inbox.appendingPathComponent(name ?? fixture))
    }

    /// Regular files below `folder`, relative to it; hidden ones too, when asked.
    func files(under folder: URL, hidden: Bool = false) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
            let isHidden = name.split(separator: "/").contains { $0.hasPrefix(".") }
            if !isDirectory.boolValue && (hidden || !isHidden) { found.append(name) }
        }
        return found.sorted()
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
@discardableResult
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
