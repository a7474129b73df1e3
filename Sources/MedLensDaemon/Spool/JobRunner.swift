import Foundation
import MedImaging

/// Moves one job from wherever the journal says it stands to archived or quarantined. Every step writes its
/// state to the journal first and then makes the effect, and every step can be redone, so the daemon may be
/// killed anywhere and `resume` finishes the job with exactly one result or quarantine record.
struct JobRunner {
    let layout: SpoolLayout
    let journal: Journal
    let processor: JobProcessor
    let log: Logger
    var settings: RunSettings

    struct RunSettings: Equatable {
        var limits: IntakeLimits
        var maxAttempts: Int
        var archiveMode: ArchiveMode
    }

    private var publisher: OutputPublisher { OutputPublisher(layout: layout) }

    // MARK: take

    /// Takes `path` out of `inbox` by rename into `work/<job>/`. Returns nil if it vanished first.
    func take(_ path: String, inbox: InboxConfig) throws(SpoolError) -> JobRecord? {
        guard let status = FileStatus.of(path) else { return nil }
        let now = Date()
        let relative = String(path.dropFirst(inbox.path.count + 1))
        let job = JobRecord(id: JobID.make(now: now), inbox: inbox.name, source: relative,
                            name: SafeName.component((path as NSString).lastPathComponent), state: .taking,
                            attempts: 0, outputs: nil, reason: nil, message: nil, stage: nil, createdAt: now, updatedAt: now)
        try journal.insert(job)
        guard let taken = try finishTaking(job, from: path) else { return nil }
        log.log(.info, "taken", ["job": taken.id, "inbox": inbox.name, "name": taken.name, "kind": status.kind.rawValue])
        return taken
    }

    /// The rename of a `taking` job, done or redone: the file is in work, or still in the inbox, or gone.
    private func finishTaking(_ job: JobRecord, from path: String) throws(SpoolError) -> JobRecord? {
        let folder = layout.workFolder(job.id)
        let destination = folder + "/" + job.name
        if FileStatus.of(destination) == nil {
            guard FileStatus.of(path) != nil else {
                try journal.forget(job)
                removeTree(folder)
                return nil
            }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try move(path, to: destination)
            } catch {
                // An entry we may not move (say, in a folder the daemon cannot write) stays where it is,
                // untouched and logged; it is tried again on its next event or rescan.
                try journal.forget(job)
                removeTree(folder)
                log.log(.error, "cannot take", ["inbox": job.inbox, "name": job.name, "error": "\(error)"])
                return nil
            }
        }
        return try journal.record(job, .taken)
    }

    // MARK: run

    /// Drives a job (from any unfinished state) to its end.
    func run(_ start: JobRecord) throws(SpoolError) {
        var job = start
        let input = layout.workFolder(job.id) + "/" + job.name
        if job.state == .taking {
            let inboxPath = layout.config.inboxes.first { $0.name == job.inbox }?.path ?? ""
            guard let taken = try finishTaking(job, from: inboxPath + "/" + job.source) else { return }
            job = taken
        }
        if [.taken, .read, .processed].contains(job.state) {
            job = try journal.record(job, job.state) { $0.attempts += 1 }
            do throws(JobFailure) {
                job = try produce(job, input: input)
            } catch {
                return try quarantine(job, error)
            }
        }
        if job.state == .outputWritten {
            job = try journal.record(job, .archived)
        }
        if job.state == .archived { try finishArchive(job) }
        if job.state == .quarantined { try finishQuarantine(job) }
    }

    /// read → process → publish. A job that has already been attempted `maxAttempts` times (the daemon died
    /// in it each time, say in a decoder) is quarantined instead of tried again.
    private func produce(_ start: JobRecord, input: String) throws(JobFailure) -> JobRecord {
        var job = start
        guard job.attempts <= settings.maxAttempts else {
            throw JobFailure(reason: "repeated_crash", message: "the daemon stopped during this job \(job.attempts - 1) times", stage: .process)
        }
        guard let status = FileStatus.of(input) else {
            throw JobFailure(reason: IntakeError.Reason.notFound.rawValue, message: "the taken input is missing", stage: .read)
        }
        guard status.kind == .regular else {
            throw JobFailure(reason: status.kind == .symlink ? "refused_symlink" : "refused_special_file",
                             message: "a \(status.kind.rawValue) is not an input; only regular files are read", stage: .take)
        }
        let scan = ScanReader.read(URL(fileURLWithPath: input), limits: settings.limits)
        job = try journaled(job, .read)
        let sets = try processor.process(JobContext(jobID: job.id, inbox: job.inbox, scan: scan))
        let folders = try publisher.folders(for: sets, job: job.id)
        let list = String(decoding: (try? JSONEncoder().encode(folders)) ?? Data("[]".utf8), as: UTF8.self)
        job = try journaled(job, .processed) { $0.outputs = list }
        try publisher.publish(sets, to: folders, job: job.id)
        job = try journaled(job, .outputWritten)
        log.log(.info, "published", ["job": job.id, "outputs": folders.joined(separator: ",")])
        return job
    }

    private func journaled(_ job: JobRecord, _ state: JobState, _ change: (inout JobRecord) -> Void = { _ in }) throws(JobFailure) -> JobRecord {
        do {
            return try journal.record(job, state, change)
        } catch {
            throw JobFailure(reason: "journal_failed", message: error.message, stage: .process)
        }
    }

    // MARK: ends

    private func quarantine(_ job: JobRecord, _ failure: JobFailure) throws(SpoolError) {
        let recorded = try journal.record(job, .quarantined) {
            $0.reason = failure.reason; $0.message = failure.message; $0.stage = failure.stage
        }
        log.log(.warning, "quarantined", ["job": job.id, "reason": failure.reason, "stage": failure.stage.rawValue])
        try finishQuarantine(recorded)
    }

    /// Writes error.json into the work folder and renames the folder to `quarantine/<job>/`.
    private func finishQuarantine(_ job: JobRecord) throws(SpoolError) {
        let folder = layout.workFolder(job.id)
        guard FileStatus.of(folder) != nil else { return }
        let record = QuarantineRecord(job: job.id, inbox: job.inbox, source: job.source, file: job.name,
                                      reason: job.reason ?? "unknown", message: job.message ?? "",
                                      stage: job.stage ?? .process, time: job.updatedAt)
        do {
            try writeDurably(try JSON.encode(record), to: folder + "/" + QuarantineRecord.fileName)
        } catch let error as SpoolError {
            throw error
        } catch {
            throw SpoolError("cannot encode error.json: \(error)")
        }
        try move(folder, to: layout.quarantineFolder(job.id))
    }

    /// Moves the work folder to `archive/<job>/`, or deletes it when so configured.
    private func finishArchive(_ job: JobRecord) throws(SpoolError) {
        let folder = layout.workFolder(job.id)
        guard FileStatus.of(folder) != nil else { return }
        switch settings.archiveMode {
        case .keep: try move(folder, to: layout.archiveFolder(job.id))
        case .delete: removeTree(folder)
        }
        log.log(.info, "archived", ["job": job.id, "mode": settings.archiveMode.rawValue])
    }

    /// At start: every unfinished job, and every finished one whose final move was interrupted.
    func resumeAll() throws(SpoolError) {
        for job in try journal.unfinished() {
            log.log(.info, "resuming", ["job": job.id, "state": job.state.rawValue])
            try run(job)
        }
        for id in (try? FileManager.default.contentsOfDirectory(atPath: layout.work)) ?? [] {
            guard JobID.isValid(id), let job = try journal.job(id), job.state.isFinal else { continue }
            try run(job)
        }
    }
}
