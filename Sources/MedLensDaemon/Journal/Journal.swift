import Foundation
import GRDB

/// The job journal: SQLite through GRDB, WAL mode, `synchronous=FULL`, so that a state written here survives
/// a crash or power loss before the effect it announces is made. Admin commands open the same file
/// beside the running daemon; WAL lets them read while it writes.
public final class Journal {
    let database: DatabasePool

    public init(path: String) throws(SpoolError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw SpoolError("cannot open the journal \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("inbox", .text).notNull()
                t.column("source", .text).notNull()
                t.column("name", .text).notNull()
                t.column("state", .text).notNull().indexed()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("outputs", .text)
                t.column("reason", .text)
                t.column("message", .text)
                t.column("stage", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "transition") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .text).notNull().indexed().references("job", onDelete: .cascade)
                t.column("state", .text).notNull()
                t.column("at", .datetime).notNull()
            }
        }
        return migrator
    }

    /// Inserts a new job (state `taking`) with its history.
    func insert(_ job: JobRecord) throws(SpoolError) {
        try write { db in
            try job.insert(db)
            try TransitionRecord(jobId: job.id, state: job.state, at: job.updatedAt).insert(db)
        }
    }

    /// Records `job` as it now stands, and its state change; returns what was recorded.
    @discardableResult
    func record(_ job: JobRecord, _ state: JobState, _ change: (inout JobRecord) -> Void = { _ in }) throws(SpoolError) -> JobRecord {
        var updated = job
        updated.state = state
        updated.updatedAt = Date()
        change(&updated)
        let saved = updated
        try write { db in
            try saved.update(db)
            try TransitionRecord(jobId: saved.id, state: state, at: saved.updatedAt).insert(db)
        }
        return saved
    }

    /// A `taking` whose file vanished before the rename: it was never an input, so it leaves no trace.
    func forget(_ job: JobRecord) throws(SpoolError) {
        try write { db in _ = try job.delete(db) }
    }

    func job(_ id: String) throws(SpoolError) -> JobRecord? {
        try read { db in try JobRecord.fetchOne(db, key: id) }
    }

    /// Jobs that are not finished, oldest first.
    func unfinished() throws(SpoolError) -> [JobRecord] {
        try read { db in
            try JobRecord.filter(![JobState.archived, .quarantined, .replayed].contains(Column("state")))
                .order(Column("createdAt"), Column("id")).fetchAll(db)
        }
    }

    func countsByState() throws(SpoolError) -> [JobState: Int] {
        try read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    func latest(in state: JobState, limit: Int) throws(SpoolError) -> [JobRecord] {
        try read { db in
            try JobRecord.filter(Column("state") == state).order(Column("updatedAt").desc).limit(limit).fetchAll(db)
        }
    }

    private func write(_ body: (Database) throws -> Void) throws(SpoolError) {
        do { try database.write(body) } catch { throw SpoolError("journal write failed: \(error)") }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(SpoolError) -> T {
        do { return try database.read(body) } catch { throw SpoolError("journal read failed: \(error)") }
    }
}
