import Foundation

public enum LogLevel: String, Sendable, Equatable, CaseIterable, Comparable {
    case debug, info, warning, error

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
    private var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
    /// syslog priority, read by journald from a `<N>` prefix.
    var priority: Int { [7, 6, 4, 3][rank] }
}

/// Line-per-event logging to stderr as `event key=value ...`. Under systemd (JOURNAL_STREAM set) each line
/// carries its syslog priority so that journald files it right. Fields never carry patient names: callers
/// log job ids, inbox names, reason codes and sanitised file names only.
public struct Logger: Sendable {
    public var level: LogLevel
    private let journald: Bool

    public init(level: LogLevel) {
        self.level = level
        journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    }

    public func log(_ level: LogLevel, _ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
        guard level >= self.level else { return }
        var line = journald ? "<\(level.priority)>" : "\(level.rawValue): "
        line += event
        for (key, value) in fields {
            line += " \(key)=" + (value.contains(" ") || value.isEmpty ? "\"\(value.replacingOccurrences(of: "\"", with: "'"))\"" : value)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
