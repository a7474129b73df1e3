import Foundation

/// Names that come from outside (file names, header values) made safe to use as one path component.
/// No input name is ever used as a path as given: it is reduced to `[A-Za-z0-9._-]`, never starts with a dot,
/// and never collides with the daemon's own file names.
enum SafeName {
    static let reserved: Set<String> = ["error.json", "intake.json", "findings.json"]

    static func component(_ raw: String, fallback: String = "input") -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var name = String(raw.map { allowed.contains($0) ? $0 : "_" }.prefix(96))
        while name.hasPrefix(".") { name.removeFirst() }
        if name.isEmpty { name = fallback }
        if reserved.contains(name) { name = "input-" + name }
        return name
    }
}

/// A DICOM UID checked against the grammar of PS3.5 §9.1: 1-64 characters, dot-separated numeric components
/// without leading zeros. Only a valid UID may become a folder name in the outbox.
public struct DicomUID: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let value: String

    public init?(_ raw: String?) {
        guard let raw else { return nil }
        let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        guard (1...64).contains(text.utf8.count) else { return nil }
        let components = text.split(separator: ".", omittingEmptySubsequences: false)
        for component in components {
            guard !component.isEmpty, component.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            if component.count > 1 && component.hasPrefix("0") { return nil }
        }
        value = text
    }

    public var description: String { value }
}

/// Job ids are made here, so they are safe path components by construction; ids given back by an admin
/// (`quarantine show ID`) are checked against the same shape before use.
public enum JobID {
    public static func make(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        let random = (0..<8).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        return "\(formatter.string(from: now))-\(random)"
    }

    public static func isValid(_ id: String) -> Bool {
        id.range(of: #"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$"#, options: .regularExpression) != nil
    }
}
