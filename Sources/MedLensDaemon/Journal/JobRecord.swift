import Foundation
import GRDB

/// One input's row in the journal. `source` is where it was found (kept for the operator; never used to
/// build a path), `name` the sanitised file name it carries through work, archive and quarantine.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"

    public var id: String
    public var inbox: String
    public var source: String
    public var name: String
    public var state: JobState
    public var attempts: Int
    /// Outbox folders (relative to the outbox) this job publishes, as a JSON array, once known.
    public var outputs: String?
    public var reason: String?
    public var message: String?
    public var stage: JobStage?
    public var createdAt: Date
    public var updatedAt: Date

    public var outputFolders: [String] {
        guard let outputs else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(outputs.utf8))) ?? []
    }
}

/// The history of a job: one row per state change.
struct TransitionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "transition"
    var jobId: String
    var state: JobState
    var at: Date
}
