/// One problem found in the configuration, named by its key path and, where it can be found, its line.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var keyPath: String
    public var line: Int?
    public var message: String

    public var description: String {
        let place = line.map { "line \($0): " } ?? ""
        return "\(place)\(keyPath.isEmpty ? "" : "\(keyPath): ")\(message)"
    }
}

/// Why a configuration was refused: every issue at once, so that one edit can fix them all.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var issues: [ConfigIssue]

    public var description: String {
        issues.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}
