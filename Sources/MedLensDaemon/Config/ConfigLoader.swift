import Foundation
import MedEngine
import MedExplain
import MedImaging
import MedLensCore
import TOMLKit

/// Reads and validates the TOML configuration. Unknown keys, wrong types and out-of-range values are all
/// reported together, each with its key path and line.
public enum ConfigLoader {
    public static func load(file: String) throws(ConfigError) -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, issues: [ConfigIssue(keyPath: "", line: nil, message: "cannot read: \(error.localizedDescription)")])
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String = "<config>") throws(ConfigError) -> DaemonConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, issues: [ConfigIssue(keyPath: "", line: error.source.begin.line, message: error.description)])
        } catch {
            throw ConfigError(file: file, issues: [ConfigIssue(keyPath: "", line: nil, message: "\(error)")])
        }
        let reader = TableReader(lines: TOMLKeyLines(text: text))
        guard let config = reader.config(from: root), reader.issues.isEmpty else {
            throw ConfigError(file: file, issues: reader.issues)
        }
        return config
    }
}

/// Walks the parsed tables, collecting issues instead of stopping at the first.
private final class TableReader {
    let lines: TOMLKeyLines
    var issues: [ConfigIssue] = []

    init(lines: TOMLKeyLines) { self.lines = lines }

    func config(from root: TOMLTable) -> DaemonConfig? {
        allowOnly(["spool", "inbox", "intake", "archive", "log", "route", "routing", "models", "engine", "pipeline",
                   "output", "series", "workers", "metrics", "service"], in: root, path: "")
        let spool = table("spool", in: root, path: "")
        allowOnly(["outbox", "quarantine", "archive", "state"], in: spool, path: "spool")
        let intake = table("intake", in: root, path: "")
        allowOnly(["settle_seconds", "max_attempts", "max_file_bytes", "max_pixels", "max_frames", "job_memory_bytes"], in: intake, path: "intake")
        let archive = table("archive", in: root, path: "")
        allowOnly(["mode", "retention_days"], in: archive, path: "archive")
        let log = table("log", in: root, path: "")
        allowOnly(["level"], in: log, path: "log")
        let models = table("models", in: root, path: "")
        allowOnly(["store"], in: models, path: "models")
        let engine = table("engine", in: root, path: "")
        allowOnly(["backend", "threads"], in: engine, path: "engine")
        let pipeline = table("pipeline", in: root, path: "")
        allowOnly(["slices_2d", "aggregate_2d", "explain", "explain_method"], in: pipeline, path: "pipeline")
        let output = table("output", in: root, path: "")
        allowOnly(["patient"], in: output, path: "output")
        let series = table("series", in: root, path: "")
        allowOnly(["quiet_seconds", "late_seconds", "single_image_modalities"], in: series, path: "series")
        let workers = table("workers", in: root, path: "")
        allowOnly(["decode", "inflight", "max_batch", "max_wait_ms", "max_queued", "memory_bytes"], in: workers, path: "workers")
        let metrics = table("metrics", in: root, path: "")
        allowOnly(["socket", "listen"], in: metrics, path: "metrics")
        let service = table("service", in: root, path: "")
        allowOnly(["stop_seconds"], in: service, path: "service")
        let routing = table("routing", in: root, path: "")
        allowOnly(["fallback"], in: routing, path: "routing")

        let inboxes = readInboxes(root)
        let outbox = path("outbox", in: spool, at: "spool")
        let quarantine = path("quarantine", in: spool, at: "spool")
        let archiveDir = path("archive", in: spool, at: "spool")
        let state = path("state", in: spool, at: "spool")
        let defaults = IntakeLimits.default
        let settle = number("settle_seconds", in: intake, at: "intake", default: 2, range: 0...3600)
        let attempts = integer("max_attempts", in: intake, at: "intake", default: 3, range: 1...100)
        let limits = IntakeLimits(
            maxFileBytes: integer("max_file_bytes", in: intake, at: "intake", default: defaults.maxFileBytes, range: 1...(1 << 40)),
            maxPixels: integer("max_pixels", in: intake, at: "intake", default: defaults.maxPixels, range: 1...(1 << 40)),
            maxFrames: integer("max_frames", in: intake, at: "intake", default: defaults.maxFrames, range: 1...1_000_000))
        let jobMemory = integer("job_memory_bytes", in: intake, at: "intake", default: 2 << 30, range: (1 << 20)...(1 << 40))
        let mode: ArchiveMode = choice("mode", in: archive, at: "archive", default: .keep)
        let retention = number("retention_days", in: archive, at: "archive", default: 0, range: 0...36500)
        let level: LogLevel = choice("level", in: log, at: "log", default: .info)
        let store = optionalPath("store", in: models, at: "models") ?? "/var/lib/medlens/models"
        let backend: BackendPreference = choice("backend", in: engine, at: "engine", default: .auto)
        let threads = integer("threads", in: engine, at: "engine", default: 0, range: 0...1024)
        var settings = PipelineSettings()
        settings.slices2D = integer("slices_2d", in: pipeline, at: "pipeline", default: 5, range: 1...4096)
        settings.aggregation = choice("aggregate_2d", in: pipeline, at: "pipeline", default: .mean)
        settings.explain = choice("explain", in: pipeline, at: "pipeline", default: .positive)
        settings.explainMethod = choice("explain_method", in: pipeline, at: "pipeline", default: .gradCAM)
        let patient: PatientReferenceMode = choice("patient", in: output, at: "output", default: .hash)
        let quiet = number("quiet_seconds", in: series, at: "series", default: 10, range: 0...86400)
        let late = number("late_seconds", in: series, at: "series", default: 3600, range: 0...(86400 * 365))
        let single = strings("single_image_modalities", in: series, at: "series")?.map { $0.uppercased() } ?? DaemonConfig.projectionModalities
        var pool = WorkerConfig()
        pool.decode = integer("decode", in: workers, at: "workers", default: pool.decode, range: 1...256)
        pool.inflight = integer("inflight", in: workers, at: "workers", default: pool.inflight, range: 1...1024)
        pool.maxBatch = integer("max_batch", in: workers, at: "workers", default: pool.maxBatch, range: 1...1024)
        pool.maxWaitSeconds = number("max_wait_ms", in: workers, at: "workers", default: 20, range: 0...60_000) / 1000
        pool.maxQueued = integer("max_queued", in: workers, at: "workers", default: pool.maxQueued, range: 1...1_000_000)
        pool.memoryBytes = integer("memory_bytes", in: workers, at: "workers", default: pool.memoryBytes, range: (1 << 20)...(1 << 44))
        let socket = optionalPath("socket", in: metrics, at: "metrics")
        let listen = loopback("listen", in: metrics, at: "metrics")
        if socket != nil && listen != nil { issue("metrics.listen", "give either metrics.socket or metrics.listen, not both") }
        let stop = number("stop_seconds", in: service, at: "service", default: 45, range: 1...3600)
        let router = Router(rules: readRoutes(root), fallback: modelNames("fallback", in: routing, at: "routing") ?? [])
        for error in router.validationErrors() {
            let index = router.rules.firstIndex { error.hasPrefix("rule \($0.name):") }
            issue(index.map { "route[\($0)]" } ?? "route", error)
        }

        guard let outbox, let quarantine, let archiveDir, let state, !inboxes.isEmpty else { return nil }
        return DaemonConfig(inboxes: inboxes, outbox: outbox, quarantine: quarantine, archive: archiveDir, state: state,
                            settleSeconds: settle, maxAttempts: attempts, limits: limits, jobMemoryBytes: jobMemory,
                            archiveMode: mode, retentionDays: retention, logLevel: level, router: router, modelStore: store,
                            backend: backend, threads: threads, pipeline: settings, patientReference: patient,
                            quietSeconds: quiet, lateSeconds: late, singleImageModalities: single, workers: pool, metricsSocket: socket, metricsListen: listen,
                            stopSeconds: stop)
    }

    private func readInboxes(_ root: TOMLTable) -> [InboxConfig] {
        guard let value = root["inbox"] else {
            issue("inbox", "at least one [[inbox]] with a name and a path is required")
            return []
        }
        guard let array = value.array else {
            issue("inbox", "must be an array of tables ([[inbox]])")
            return []
        }
        var inboxes: [InboxConfig] = []
        for (index, element) in array.enumerated() {
            let at = "inbox[\(index)]"
            guard let entry = element.table else { issue(at, "must be a table with name and path"); continue }
            allowOnly(["name", "path", "fallback"], in: entry, path: at)
            guard let name = string("name", in: entry, at: at), let dir = path("path", in: entry, at: at) else { continue }
            if name.range(of: #"^[a-z0-9][a-z0-9_-]{0,31}$"#, options: .regularExpression) == nil {
                issue("\(at).name", "must be 1-32 of a-z, 0-9, '_' or '-', starting with a letter or digit")
            } else if inboxes.contains(where: { $0.name == name }) {
                issue("\(at).name", "duplicate inbox name \"\(name)\"")
            }
            inboxes.append(InboxConfig(name: name, path: dir, fallback: modelNames("fallback", in: entry, at: at)))
        }
        if array.isEmpty { issue("inbox", "at least one [[inbox]] is required") }
        return inboxes
    }

    /// `[[route]]` tables, in order: the first that matches a scan wins.
    private func readRoutes(_ root: TOMLTable) -> [RoutingRule] {
        guard let value = root["route"] else { return [] }
        guard let array = value.array else { issue("route", "must be an array of tables ([[route]])"); return [] }
        var rules: [RoutingRule] = []
        for (index, element) in array.enumerated() {
            let at = "route[\(index)]"
            guard let entry = element.table else { issue(at, "must be a table"); continue }
            allowOnly(["name", "modalities", "sop_class_uids", "body_parts", "kinds", "channels", "min_depth", "max_depth",
                       "models", "hold"], in: entry, path: at)
            guard let name = string("name", in: entry, at: at) else { continue }
            let channels = entry["channels"] == nil ? nil : integer("channels", in: entry, at: at, default: 1, range: 1...4)
            let minDepth = entry["min_depth"] == nil ? nil : integer("min_depth", in: entry, at: at, default: 1, range: 1...1_000_000)
            let maxDepth = entry["max_depth"] == nil ? nil : integer("max_depth", in: entry, at: at, default: 1, range: 1...1_000_000)
            var hold = false
            if let raw = entry["hold"] {
                if let flag = raw.bool { hold = flag } else { issue("\(at).hold", "must be true or false") }
            }
            rules.append(RoutingRule(name: name, modalities: strings("modalities", in: entry, at: at),
                                     sopClassUIDs: strings("sop_class_uids", in: entry, at: at),
                                     bodyParts: strings("body_parts", in: entry, at: at), kinds: strings("kinds", in: entry, at: at),
                                     channels: channels, minDepth: minDepth, maxDepth: maxDepth,
                                     models: modelNames("models", in: entry, at: at) ?? [], hold: hold))
        }
        return rules
    }

    // MARK: typed values

    private func table(_ key: String, in parent: TOMLTable, path: String) -> TOMLTable? {
        guard let value = parent[key] else { return nil }
        guard let table = value.table else { issue(join(path, key), "must be a table"); return nil }
        return table
    }

    private func allowOnly(_ known: Set<String>, in table: TOMLTable?, path: String) {
        for key in table?.keys ?? [] where !known.contains(key) {
            issue(join(path, key), "unknown key (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private func string(_ key: String, in table: TOMLTable?, at path: String) -> String? {
        guard let value = table?[key] else { issue(join(path, key), "is required"); return nil }
        guard let text = value.string, !text.isEmpty else { issue(join(path, key), "must be a non-empty string"); return nil }
        return text
    }

    private func path(_ key: String, in table: TOMLTable?, at path: String) -> String? {
        guard let text = string(key, in: table, at: path) else { return nil }
        guard text.hasPrefix("/") || text.hasPrefix("./") else {
            issue(join(path, key), "must be an absolute path (or start with ./)")
            return nil
        }
        return URL(fileURLWithPath: text).standardizedFileURL.path
    }

    private func optionalPath(_ key: String, in table: TOMLTable?, at path: String) -> String? {
        guard table?[key] != nil else { return nil }
        return self.path(key, in: table, at: path)
    }

    /// "127.0.0.1:PORT" or "[::1]:PORT": metrics are never served beyond this host.
    private func loopback(_ key: String, in table: TOMLTable?, at path: String) -> String? {
        guard table?[key] != nil, let text = string(key, in: table, at: path) else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
              ["127.0.0.1", "localhost", "[::1]"].contains(String(text[..<colon])) else {
            issue(join(path, key), "must be a loopback address with a port, like \"127.0.0.1:9464\"")
            return nil
        }
        return text
    }

    private func strings(_ key: String, in table: TOMLTable?, at path: String) -> [String]? {
        guard let raw = table?[key] else { return nil }
        guard let array = raw.array else { issue(join(path, key), "must be an array of strings"); return nil }
        var values: [String] = []
        for element in array {
            guard let text = element.string, !text.isEmpty else { issue(join(path, key), "must be an array of non-empty strings"); return nil }
            values.append(text)
        }
        return values
    }

    /// Model names become store paths: letters, digits, '.', '_', '-'.
    private func modelNames(_ key: String, in table: TOMLTable?, at path: String) -> [String]? {
        guard let names = strings(key, in: table, at: path) else { return nil }
        for name in names where !ModelStore.isValidComponent(name) {
            issue(join(path, key), "\"\(name)\" is not a model name (letters, digits, '.', '_', '-')")
        }
        return names
    }

    private func number(_ key: String, in table: TOMLTable?, at path: String, default value: Double,
                        range: ClosedRange<Double>) -> Double {
        guard let raw = table?[key] else { return value }
        guard let number = raw.double ?? raw.int.map(Double.init) else { issue(join(path, key), "must be a number"); return value }
        guard range.contains(number) else { issue(join(path, key), "must be within \(range.lowerBound)...\(range.upperBound)"); return value }
        return number
    }

    private func integer(_ key: String, in table: TOMLTable?, at path: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = table?[key] else { return value }
        guard let number = raw.int else { issue(join(path, key), "must be an integer"); return value }
        guard range.contains(number) else { issue(join(path, key), "must be within \(range.lowerBound)...\(range.upperBound)"); return value }
        return number
    }

    private func choice<T: RawRepresentable & CaseIterable>(_ key: String, in table: TOMLTable?, at path: String,
                                                             default value: T) -> T where T.RawValue == String {
        guard let raw = table?[key] else { return value }
        guard let text = raw.string, let chosen = T(rawValue: text) else {
            issue(join(path, key), "must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            return value
        }
        return chosen
    }

    private func issue(_ keyPath: String, _ message: String) {
        issues.append(ConfigIssue(keyPath: keyPath, line: lines.line(of: keyPath) ?? lines.line(of: parent(of: keyPath)), message: message))
    }

    private func parent(of keyPath: String) -> String {
        keyPath.range(of: ".", options: .backwards).map { String(keyPath[..<$0.lowerBound]) } ?? ""
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
