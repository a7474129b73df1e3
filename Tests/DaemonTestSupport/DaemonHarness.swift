import Foundation
import Glibc

/// Runs the real `medlensd` binary (built by `swift build`) on a fresh temporary spool, with a model store of
/// small real packages (`TestModels`) and routes to them. Shared by the daemon and CLI tests.
public final class DaemonHarness {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let binary = packageRoot.appendingPathComponent(".build/debug/medlensd").path
    public static let fixtures = packageRoot.appendingPathComponent("fixtures/daemon")
    public static func fixture(_ path: String) -> URL { packageRoot.appendingPathComponent("fixtures/" + path) }

    /// Routes for the test models: chest radiographs, colour photos, OCT B-scans, 3D series, a fallback.
    public static let routes = """
        [[route]]
        name = "chest"
        modalities = ["CR", "DX"]
        models = ["chest-test"]

        [[route]]
        name = "slo"
        kinds = ["oct-vol-slo"]
        hold = true

        [[route]]
        name = "oct"
        kinds = ["oct-vol", "bscan-folder"]
        models = ["oct-test"]

        [[route]]
        name = "photo"
        kinds = ["jpeg", "png", "tiff"]
        channels = 3
        models = ["fundus-test"]

        [[route]]
        name = "volume"
        min_depth = 8
        models = ["volume-test"]

        [routing]
        fallback = ["chest-test"]
        """

    public let root: URL
    public let configFile: URL
    public let models: URL
    public private(set) var process: Process?
    private let logFile: URL

    public var spool: URL { root.appendingPathComponent("spool") }
    public var inbox: URL { root.appendingPathComponent("spool/inbox") }
    public var outbox: URL { root.appendingPathComponent("spool/outbox") }
    public var archive: URL { root.appendingPathComponent("spool/archive") }
    public var quarantine: URL { root.appendingPathComponent("spool/quarantine") }
    public var work: URL { root.appendingPathComponent("spool/state/work") }
    public var metricsSocket: URL { root.appendingPathComponent("spool/state/metrics.sock") }

    /// - Parameters:
    ///   - extra: more `[intake]` keys.
    ///   - sections: more tables, after the routes (they replace nothing: give only tables not already there).
    ///   - store: an existing model store; by default one with every `TestModels` model is made.
    ///   - series: more `[series]` keys.
    public init(settleSeconds: Double = 0.3, quietSeconds: Double = 1.5, series: String = "", extra: String = "", sections: String = "", routes: String = DaemonHarness.routes,
                store: URL? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("medlensd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        configFile = root.appendingPathComponent("medlens.toml")
        logFile = root.appendingPathComponent("medlensd.log")
        if let store { models = store } else {
            models = root.appendingPathComponent("models")
            try TestModels.makeStore(at: models)
        }
        let toml = """
            [spool]
            outbox = "/unused/outbox"
            quarantine = "/unused/quarantine"
            archive = "/unused/archive"
            state = "/unused/state"

            [[inbox]]
            name = "default"
            path = "/unused/inbox"

            [models]
            store = "\(models.path)"

            [series]
            quiet_seconds = \(quietSeconds)
            \(series)

            [metrics]
            socket = "/unused/metrics.sock"

            \(routes)

            \(sections)

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

    /// Starts the daemon and waits until its spool exists.
    public func start(environment: [String: String] = [:]) throws {
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

    public func signal(_ number: Int32) { if let process { kill(process.processIdentifier, number) } }

    /// Kills with SIGKILL: no chance to finish anything.
    public func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// A careful producer: writes under a hidden name, then renames into the inbox.
    public func drop(_ fixture: String, as name: String? = nil) throws {
        try drop(data: try Data(contentsOf: Self.fixtures.appendingPathComponent(fixture)), as: name ?? fixture)
    }

    /// A careful producer with any file: fixtures/<path> (the path relative to fixtures/).
    public func drop(fixture path: String, as name: String) throws {
        try drop(data: try Data(contentsOf: Self.fixture(path)), as: name)
    }

    public func drop(data: Data, as name: String) throws {
        let hidden = inbox.appendingPathComponent(".\(UUID().uuidString)")
        try data.write(to: hidden)
        let target = inbox.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: hidden, to: target)
    }

    /// Regular files below `folder`, relative to it; hidden ones too, when asked.
    public func files(under folder: URL, hidden: Bool = false) -> [String] {
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

    /// The findings documents in the outbox, by their folder (relative to the outbox).
    public func findings() throws -> [String: [String: Any]] {
        var documents: [String: [String: Any]] = [:]
        for path in files(under: outbox) where path.hasSuffix("/findings.json") {
            let data = try Data(contentsOf: outbox.appendingPathComponent(path))
            documents[String(path.dropLast("/findings.json".count))] = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
        return documents
    }

    /// Originals in archive/ and inputs in quarantine/ (without error.json), by file name.
    public func archived() -> [String] { files(under: archive).map { ($0 as NSString).lastPathComponent } }
    public func quarantined() -> [String] {
        files(under: quarantine).filter { !$0.hasSuffix("/error.json") }.map { ($0 as NSString).lastPathComponent }
    }

    /// error.json records in quarantine/.
    public func quarantineRecords() throws -> [[String: Any]] {
        try files(under: quarantine).filter { $0.hasSuffix("/error.json") }.map {
            try JSONSerialization.jsonObject(with: Data(contentsOf: quarantine.appendingPathComponent($0))) as? [String: Any] ?? [:]
        }
    }

    /// Peak resident memory (VmHWM) and open descriptors of the running daemon.
    public func peakRSSKiB() -> Int? {
        guard let process, let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    public func openDescriptors() -> Int? {
        guard let process else { return nil }
        return (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd"))?.count
    }

    /// The metrics text from the daemon's unix socket.
    public func scrapeMetrics() -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in metricsSocket.path.utf8.enumerated() { raw[i] = b } }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /metrics HTTP/1.0\r\n\r\n".utf8)
        _ = send(fd, request, request.count, 0)
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: response, as: UTF8.self)
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
@discardableResult
public func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
