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
    /// The group (series, or the job alone) this input belongs to, once its header was read.
    public var groupKey: String?
    /// What the header said (`InputProbe`, JSON), so that series can be rebuilt at start without reading files.
    public var probe: String?
    /// The archived original was deleted (retention, or archive.mode = "delete").
    public var swept: Bool = false

    public init(id: String, inbox: String, source: String, name: String, state: JobState, attempts: Int, outputs: String?,
                reason: String?, message: String?, stage: JobStage?, createdAt: Date, updatedAt: Date,
                groupKey: String? = nil, probe: String? = nil, swept: Bool = false) {
        self.id = id; self.inbox = inbox; self.source = source; self.name = name; self.state = state
        self.attempts = attempts; self.outputs = outputs; self.reason = reason; self.message = message; self.stage = stage
        self.createdAt = createdAt; self.updatedAt = updatedAt; self.groupKey = groupKey; self.probe = probe; self.swept = swept
    }

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

/// A group of inputs processed together: the files of one DICOM series, or one input on its own. A run reads
/// every member and publishes one result; an image that arrives after the result re-runs the group, and the new
/// result names the run it replaces.
public struct GroupRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "jobgroup"

    public enum State: String, Codable, Sendable, DatabaseValueConvertible {
        /// Members arriving; not yet complete.
        case collecting
        /// A run over `members` is under way (journalled before it starts, so a crash re-runs it).
        case running
        /// The run's outputs are in the outbox.
        case published
    }

    public var key: String
    public var state: State
    /// The run under way or last published (its id is the findings' jobID).
    public var run: String?
    /// The run this one replaces, for late images.
    public var replaces: String?
    /// Member job ids of the run, as a JSON array.
    public var members: String?
    /// `InputDescription.Completeness` and its evidence for the run, as JSON.
    public var completeness: String?
    /// Outbox folders of the run, as a JSON array.
    public var outputs: String?
    /// An image arrived while a run was under way: run again once it is published.
    public var rerun: Bool
    public var lastArrival: Date
    public var updatedAt: Date

    public var memberIDs: [String] { members.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [] }
    public var outputFolders: [String] { outputs.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [] }
}
