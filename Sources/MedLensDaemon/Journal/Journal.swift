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
        migrator.registerMigration("v2-groups") { db in
            try db.alter(table: "job") { t in
                t.add(column: "groupKey", .text).indexed()
                t.add(column: "probe", .text)
                t.add(column: "swept", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "jobgroup") { t in
                t.primaryKey("key", .text)
                t.column("state", .text).notNull().indexed()
                t.column("run", .text)
                t.column("replaces", .text)
                t.column("members", .text)
                t.column("completeness", .text)
                t.column("outputs", .text)
                t.column("rerun", .boolean).notNull().defaults(to: false)
                t.column("lastArrival", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
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

    // MARK: groups

    /// The header of `job` was read: it joins `key` (state `read`). A group already published is reopened (a late
    /// image; the next run replaces the published one); one that is running is marked to run again afterwards.
    @discardableResult
    func admit(_ job: JobRecord, group key: String, probe: String) throws(SpoolError) -> JobRecord {
        var updated = job
        updated.state = .read
        updated.updatedAt = Date()
        updated.groupKey = key
        updated.probe = probe
        let saved = updated
        try write { db in
            try saved.update(db)
            try TransitionRecord(jobId: saved.id, state: .read, at: saved.updatedAt).insert(db)
            if var group = try GroupRecord.fetchOne(db, key: key) {
                switch group.state {
                case .collecting: break
                case .running: group.rerun = true
                case .published:
                    group.state = .collecting
                    group.replaces = group.run
                }
                group.lastArrival = saved.updatedAt
                group.updatedAt = saved.updatedAt
                try group.update(db)
            } else {
                try GroupRecord(key: key, state: .collecting, run: nil, replaces: nil, members: nil, completeness: nil, outputs: nil,
                                rerun: false, lastArrival: saved.updatedAt, updatedAt: saved.updatedAt).insert(db)
            }
        }
        return saved
    }

    /// A run starts over `members`; the members not yet finished count one more attempt.
    func startRun(_ group: GroupRecord, run: String, members: [String], completeness: String) throws(SpoolError) -> GroupRecord {
        var updated = group
        updated.state = .running
        updated.run = run
        updated.members = Self.json(members)
        updated.completeness = completeness
        updated.rerun = false
        updated.updatedAt = Date()
        let saved = updated
        try write { db in
            try saved.update(db)
            for id in members {
                guard var job = try JobRecord.fetchOne(db, key: id), !job.state.isFinal else { continue }
                job.attempts += 1
                job.updatedAt = saved.updatedAt
                try job.update(db)
            }
        }
        return saved
    }

    /// The run's outputs are about to be placed in `folders`.
    func runProcessed(_ group: GroupRecord, outputs folders: [String]) throws(SpoolError) -> GroupRecord {
        var updated = group
        updated.outputs = Self.json(folders)
        updated.updatedAt = Date()
        let saved = updated
        try write { db in
            try saved.update(db)
            for id in saved.memberIDs {
                guard var job = try JobRecord.fetchOne(db, key: id), !job.state.isFinal else { continue }
                job.state = .processed
                job.outputs = saved.outputs
                job.updatedAt = saved.updatedAt
                try job.update(db)
                try TransitionRecord(jobId: id, state: .processed, at: saved.updatedAt).insert(db)
            }
        }
        return saved
    }

    /// The run's outputs are in place: the group is published (or collecting again, when images arrived during the
    /// run) and its unfinished members are archived (their originals move next).
    func runPublished(_ group: GroupRecord) throws(SpoolError) -> GroupRecord {
        var updated = group
        updated.state = group.rerun ? .collecting : .published
        if group.rerun { updated.replaces = group.run; updated.rerun = false }
        updated.updatedAt = Date()
        let saved = updated
        try write { db in
            try saved.update(db)
            for id in group.memberIDs {
                guard var job = try JobRecord.fetchOne(db, key: id), !job.state.isFinal else { continue }
                for state in [JobState.outputWritten, .archived] {
                    try TransitionRecord(jobId: id, state: state, at: saved.updatedAt).insert(db)
                }
                job.state = .archived
                job.updatedAt = saved.updatedAt
                try job.update(db)
            }
        }
        return saved
    }

    /// A run ended without output (every member quarantined): the group returns to what it was before.
    func runAbandoned(_ group: GroupRecord) throws(SpoolError) -> GroupRecord {
        var updated = group
        updated.state = group.rerun ? .collecting : (group.replaces != nil ? .published : .collecting)
        if group.replaces != nil && !group.rerun { updated.run = group.replaces }
        updated.rerun = false
        updated.updatedAt = Date()
        let saved = updated
        try write { db in try saved.update(db) }
        return saved
    }

    func group(_ key: String) throws(SpoolError) -> GroupRecord? {
        try read { db in try GroupRecord.fetchOne(db, key: key) }
    }

    func groups(in state: GroupRecord.State) throws(SpoolError) -> [GroupRecord] {
        try read { db in try GroupRecord.filter(Column("state") == state).order(Column("updatedAt")).fetchAll(db) }
    }

    /// Members of a group that were not quarantined, oldest first.
    func members(of key: String) throws(SpoolError) -> [JobRecord] {
        try read { db in
            try JobRecord.filter(Column("groupKey") == key && ![JobState.quarantined, .replayed].contains(Column("state")))
                .order(Column("createdAt"), Column("id")).fetchAll(db)
        }
    }

    /// Archived jobs whose originals are still there and were finished before `before` (and, with `groupPrefix`,
    /// belong to such groups).
    func archived(before: Date, groupPrefix: String? = nil, limit: Int = 500) throws(SpoolError) -> [JobRecord] {
        try read { db in
            var request = JobRecord.filter(Column("state") == JobState.archived && Column("swept") == false && Column("updatedAt") < before)
            if let groupPrefix { request = request.filter(Column("groupKey").like(groupPrefix + "%")) }
            return try request.limit(limit).fetchAll(db)
        }
    }

    func markSwept(_ ids: [String]) throws(SpoolError) {
        try write { db in
            for id in ids { try db.execute(sql: "UPDATE job SET swept = 1 WHERE id = ?", arguments: [id]) }
        }
    }

    static func json(_ values: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self)
    }

    private func write(_ body: (Database) throws -> Void) throws(SpoolError) {
        do { try database.write(body) } catch { throw SpoolError("journal write failed: \(error)") }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(SpoolError) -> T {
        do { return try database.read(body) } catch { throw SpoolError("journal read failed: \(error)") }
    }
}
