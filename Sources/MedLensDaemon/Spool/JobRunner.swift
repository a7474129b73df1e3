import Foundation
import MedImaging

/// The spool's steps for one input: take by rename, read its header and join a group, quarantine, archive.
/// Every step writes its state to the journal first and then makes the effect, and every step can be redone, so
/// the daemon may be killed anywhere and a restart finishes the job with exactly one result or quarantine record.
/// Only the daemon's loop calls it (the journal's single writer).
struct JobRunner {
    let layout: SpoolLayout
    let journal: Journal
    var log: Logger
    var settings: RunSettings

    struct RunSettings: Equatable {
        var limits: IntakeLimits
        var maxAttempts: Int
        var archiveMode: ArchiveMode
        var jobMemoryBytes: Int
    }

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
    func finishTaking(_ job: JobRecord, from path: String) throws(SpoolError) -> JobRecord? {
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

    /// The taking of a job left in `taking` by a crash.
    func resumeTaking(_ job: JobRecord) throws(SpoolError) -> JobRecord? {
        let inboxPath = layout.config.inboxes.first { $0.name == job.inbox }?.path ?? ""
        return try finishTaking(job, from: inboxPath + "/" + job.source)
    }

    // MARK: admit

    /// Reads the header of a taken input and puts it in its group (journalled `read`): its DICOM series, or a
    /// group of its own. Returns the group key, or nil when the job was quarantined.
    func admit(_ job: JobRecord) throws(SpoolError) -> (key: String, probe: InputProbe)? {
        guard let (key, probe, encoded) = try examine(job) else { return nil }
        try journal.admit(job, group: key, probe: encoded)
        return (key, probe)
    }

    /// The header and the group key (with the header as JSON). Links and special files, unreadable headers and
    /// inputs over the memory budget are quarantined here, before anything is decoded.
    private func examine(_ job: JobRecord) throws(SpoolError) -> (String, InputProbe, String)? {
        let input = layout.workFolder(job.id) + "/" + job.name
        do throws(JobFailure) {
            guard let status = FileStatus.of(input) else {
                throw JobFailure(reason: IntakeError.Reason.notFound.rawValue, message: "the taken input is missing", stage: .read)
            }
            guard status.kind == .regular else {
                throw JobFailure(reason: status.kind == .symlink ? "refused_symlink" : "refused_special_file",
                                 message: "a \(status.kind.rawValue) is not an input; only regular files are read", stage: .take)
            }
            let probe = try InputProbe.read(input, limits: settings.limits)
            // Decoded voxels, then a resampled copy per model and the preprocessing's working copies.
            let estimate = probe.decodedBytes * 3
            guard estimate <= settings.jobMemoryBytes else {
                throw JobFailure(reason: IntakeError.Reason.tooLarge.rawValue,
                                 message: "about \(estimate >> 20) MiB to decode and preprocess exceed intake.job_memory_bytes (\(settings.jobMemoryBytes >> 20) MiB)",
                                 stage: .read)
            }
            let key = probe.seriesKey ?? "job:\(job.id)"
            let encoded = String(decoding: (try? JSONEncoder().encode(probe)) ?? Data("{}".utf8), as: UTF8.self)
            return (key, probe, encoded)
        } catch {
            try quarantine(job, error)
            return nil
        }
    }

    // MARK: ends

    func quarantine(_ job: JobRecord, _ failure: JobFailure) throws(SpoolError) {
        let recorded = try journal.record(job, .quarantined) {
            $0.reason = failure.reason; $0.message = failure.message; $0.stage = failure.stage
        }
        log.log(.warning, "quarantined", ["job": job.id, "reason": failure.reason, "stage": failure.stage.rawValue])
        try finishQuarantine(recorded)
    }

    /// Writes error.json into the work folder and renames the folder to `quarantine/<job>/`.
    func finishQuarantine(_ job: JobRecord) throws(SpoolError) {
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

    /// Moves the work folder to `archive/<job>/`, or deletes it when so configured. Series members stay in the
    /// archive even then, until `series.late_seconds` have passed, so that a late image can re-run the series.
    func finishArchive(_ job: JobRecord) throws(SpoolError) {
        let folder = layout.workFolder(job.id)
        guard FileStatus.of(folder) != nil else { return }
        let keepForLateImages = job.groupKey?.hasPrefix("series:") ?? false
        switch settings.archiveMode {
        case .keep: try move(folder, to: layout.archiveFolder(job.id))
        case .delete where keepForLateImages: try move(folder, to: layout.archiveFolder(job.id))
        case .delete:
            removeTree(folder)
            try journal.markSwept([job.id])
        }
        log.log(.debug, "archived", ["job": job.id, "mode": settings.archiveMode.rawValue])
    }

    /// Finished jobs whose final move was interrupted.
    func finishInterruptedMoves() throws(SpoolError) {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: layout.work)) ?? [] {
            guard JobID.isValid(id), let job = try journal.job(id), job.state.isFinal else { continue }
            if job.state == .archived { try finishArchive(job) }
            if job.state == .quarantined { try finishQuarantine(job) }
        }
    }

    /// Deletes archived originals past their retention (and, in delete mode, series members past the late window).
    func sweepArchive(retentionDays: Double, lateSeconds: Double, now: Date = Date()) throws(SpoolError) {
        var due: [JobRecord] = []
        if retentionDays > 0 { due += try journal.archived(before: now.addingTimeInterval(-retentionDays * 86400)) }
        if settings.archiveMode == .delete {
            due += try journal.archived(before: now.addingTimeInterval(-lateSeconds), groupPrefix: "series:")
        }
        guard !due.isEmpty else { return }
        for job in due { removeTree(layout.archiveFolder(job.id)) }
        try journal.markSwept(due.map(\.id))
        log.log(.info, "swept", ["originals": String(due.count)])
    }
}
