import Foundation
import MedEngine

/// The library behind `medlens quarantine list|show|replay` and `medlens status`. It opens the journal beside
/// a running daemon (WAL lets it) and never touches a job the daemon is working on.
public struct SpoolAdmin {
    public let layout: SpoolLayout
    private let journal: Journal

    public init(config: DaemonConfig) throws(SpoolError) {
        layout = SpoolLayout(config: config)
        journal = try Journal(path: layout.journal)
    }

    /// Every quarantine record, newest first.
    public func quarantineList() throws(SpoolError) -> [QuarantineRecord] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: layout.config.quarantine)) ?? []
        return ids.filter(JobID.isValid).compactMap { try? quarantineShow($0) }.sorted { $0.time > $1.time }
    }

    /// One record: error.json of `quarantine/<job>/`.
    public func quarantineShow(_ job: String) throws(SpoolError) -> QuarantineRecord {
        guard JobID.isValid(job) else { throw SpoolError("not a job id: \(job)") }
        let file = layout.quarantineFolder(job) + "/" + QuarantineRecord.fileName
        guard let data = FileManager.default.contents(atPath: file) else { throw SpoolError("no quarantine record for \(job)") }
        do {
            return try JSON.decode(QuarantineRecord.self, from: data)
        } catch {
            throw SpoolError("unreadable \(file): \(error)")
        }
    }

    /// Sends a quarantined input back to its inbox (as `replay-<job>-<name>`) for a fresh job, and keeps its
    /// quarantine record under `state/replayed/<job>/`. Returns the path it was given in the inbox.
    @discardableResult
    public func quarantineReplay(_ job: String) throws(SpoolError) -> String {
        let record = try quarantineShow(job)
        let inbox = layout.config.inboxes.first { $0.name == record.inbox } ?? layout.config.inboxes[0]
        let folder = layout.quarantineFolder(job)
        let destination = inbox.path + "/replay-\(job)-\(SafeName.component(record.file))"
        if let entry = try journal.job(job) { try journal.record(entry, .replayed) }
        try move(folder + "/" + SafeName.component(record.file), to: destination)
        try move(folder, to: layout.replayed + "/" + job)
        return destination
    }

    /// Queue depth, jobs by state and the latest quarantine reasons.
    public func status(lastErrors: Int = 10) throws(SpoolError) -> SpoolStatus {
        let counts = try journal.countsByState()
        let waiting = layout.config.inboxes.reduce(0) { $0 + Self.countFiles(under: $1.path) }
        let inFlight = counts.filter { !$0.key.isFinal }.values.reduce(0, +)
        let errors = try journal.latest(in: .quarantined, limit: lastErrors).map {
            SpoolStatus.LastError(job: $0.id, reason: $0.reason ?? "unknown", stage: $0.stage?.rawValue ?? "", message: $0.message ?? "", time: $0.updatedAt)
        }
        return SpoolStatus(queueDepth: waiting + inFlight, waitingInInbox: waiting, inFlight: inFlight,
                           jobsByState: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
                           lastErrors: errors, models: models())
    }

    /// Every model in the store (versions, current) beside what the daemon last said it serves (state/models.json).
    public func models() -> [SpoolStatus.ModelStatus] {
        let store = ModelStore(root: URL(fileURLWithPath: layout.config.modelStore))
        let served = FileManager.default.contents(atPath: layout.servedModels).flatMap { try? JSON.decode(ServedModels.self, from: $0) }
        let names = Set(store.names()).union(served?.served.map(\.name) ?? []).union(served?.refused.map(\.name) ?? [])
        return names.sorted().map { name in
            let serving = served?.served.first { $0.name == name }
            let refused = served?.refused.first { $0.name == name }
            return SpoolStatus.ModelStatus(name: name, current: store.currentVersion(of: name), versions: store.versions(of: name),
                                           served: serving?.version, sha256: serving?.sha256, backend: serving?.backend,
                                           refused: refused.map { "\($0.version): \($0.reason)" })
        }
    }

    private static func countFiles(under root: String) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
        var count = 0
        while let name = walker.nextObject() as? String {
            if !(name as NSString).lastPathComponent.hasPrefix("."), FileStatus.of(root + "/" + name)?.kind != .directory { count += 1 }
        }
        return count
    }
}

/// What `medlens status` shows.
public struct SpoolStatus: Codable, Sendable, Equatable {
    public struct LastError: Codable, Sendable, Equatable {
        public var job: String
        public var reason: String
        public var stage: String
        public var message: String
        public var time: Date
    }
    /// Files waiting in the inboxes plus jobs not yet finished.
    public var queueDepth: Int
    public var waitingInInbox: Int
    public var inFlight: Int
    public var jobsByState: [String: Int]
    public var lastErrors: [LastError]
    public var models: [ModelStatus]

    /// A model in the store and what the daemon serves of it.
    public struct ModelStatus: Codable, Sendable, Equatable {
        public var name: String
        /// The store's `current` version.
        public var current: String?
        public var versions: [String]
        /// The version the daemon serves (from state/models.json), its weights' sha256 and backend.
        public var served: String?
        public var sha256: String?
        public var backend: String?
        /// A version the daemon refused, and why.
        public var refused: String?
    }

    public func json() -> String {
        String(decoding: (try? JSON.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
