import Foundation
import MedImaging
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
        allowOnly(["spool", "inbox", "intake", "archive", "log"], in: root, path: "")
        let spool = table("spool", in: root, path: "")
        allowOnly(["outbox", "quarantine", "archive", "state"], in: spool, path: "spool")
        let intake = table("intake", in: root, path: "")
        allowOnly(["settle_seconds", "max_attempts", "max_file_bytes", "max_pixels", "max_frames"], in: intake, path: "intake")
        let archive = table("archive", in: root, path: "")
        allowOnly(["mode"], in: archive, path: "archive")
        let log = table("log", in: root, path: "")
        allowOnly(["level"], in: log, path: "log")

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
        let mode: ArchiveMode = choice("mode", in: archive, at: "archive", default: .keep)
        let level: LogLevel = choice("level", in: log, at: "log", default: .info)
        guard let outbox, let quarantine, let archiveDir, let state, !inboxes.isEmpty else { return nil }
        return DaemonConfig(inboxes: inboxes, outbox: outbox, quarantine: quarantine, archive: archiveDir, state: state,
                            settleSeconds: settle, maxAttempts: attempts, limits: limits, archiveMode: mode, logLevel: level)
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
            allowOnly(["name", "path"], in: entry, path: at)
            guard let name = string("name", in: entry, at: at), let dir = path("path", in: entry, at: at) else { continue }
            if name.range(of: #"^[a-z0-9][a-z0-9_-]{0,31}$"#, options: .regularExpression) == nil {
                issue("\(at).name", "must be 1-32 of a-z, 0-9, '_' or '-', starting with a letter or digit")
            } else if inboxes.contains(where: { $0.name == name }) {
                issue("\(at).name", "duplicate inbox name \"\(name)\"")
            }
            inboxes.append(InboxConfig(name: name, path: dir))
        }
        if array.isEmpty { issue("inbox", "at least one [[inbox]] is required") }
        return inboxes
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
