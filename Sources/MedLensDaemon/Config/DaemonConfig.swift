import Foundation
import MedImaging

/// One watched inbox. Its name labels jobs and, with `--spool`, names its folder under `inbox/`.
public struct InboxConfig: Sendable, Equatable {
    public var name: String
    public var path: String
    public init(name: String, path: String) { self.name = name; self.path = path }
}

/// What happens to an original after its outputs are written.
public enum ArchiveMode: String, Sendable, Equatable, CaseIterable {
    case keep
    case delete
}

/// The validated daemon configuration (see etc/medlens/medlens.toml for every key and its meaning).
public struct DaemonConfig: Sendable, Equatable {
    public var inboxes: [InboxConfig]
    public var outbox: String
    public var quarantine: String
    public var archive: String
    public var state: String
    public var settleSeconds: Double
    public var maxAttempts: Int
    public var limits: IntakeLimits
    public var archiveMode: ArchiveMode
    public var logLevel: LogLevel

    public init(inboxes: [InboxConfig], outbox: String, quarantine: String, archive: String, state: String,
                settleSeconds: Double = 2, maxAttempts: Int = 3, limits: IntakeLimits = .default,
                archiveMode: ArchiveMode = .keep, logLevel: LogLevel = .info) {
        self.inboxes = inboxes; self.outbox = outbox; self.quarantine = quarantine; self.archive = archive
        self.state = state; self.settleSeconds = settleSeconds; self.maxAttempts = maxAttempts; self.limits = limits
        self.archiveMode = archiveMode; self.logLevel = logLevel
    }

    /// `--spool DIR`: every spool folder under DIR, over what the file says. One inbox is `DIR/inbox`;
    /// several are `DIR/inbox/<name>`.
    public func placingSpool(under root: String) -> DaemonConfig {
        var copy = self
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        copy.inboxes = inboxes.count == 1
            ? [InboxConfig(name: inboxes[0].name, path: base + "/inbox")]
            : inboxes.map { InboxConfig(name: $0.name, path: base + "/inbox/" + $0.name) }
        copy.outbox = base + "/outbox"
        copy.quarantine = base + "/quarantine"
        copy.archive = base + "/archive"
        copy.state = base + "/state"
        return copy
    }

    /// Whether two configurations watch and write the same folders (a reload cannot move them).
    func sameSpool(as other: DaemonConfig) -> Bool {
        inboxes == other.inboxes && outbox == other.outbox && quarantine == other.quarantine
            && archive == other.archive && state == other.state
    }
}
