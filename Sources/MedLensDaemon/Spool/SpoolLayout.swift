import Foundation
import Glibc

/// The spool folders, and the daemon's private ones under `state/`: `work/<job>/` holds a taken input,
/// `journal.sqlite` the job journal, `replayed/<job>/` the quarantine records that were re-injected.
/// Everything must be on one file system so that every move is an atomic `rename`.
public struct SpoolLayout: Sendable {
    public let config: DaemonConfig
    public var work: String { config.state + "/work" }
    public var replayed: String { config.state + "/replayed" }
    /// Hard links of a run's members, read together as one series; emptied at start.
    public var runs: String { config.state + "/runs" }
    /// What the daemon serves (state/models.json), for `medlens status`.
    public var servedModels: String { config.state + "/" + ServedModels.fileName }
    public var patientKey: String { config.state + "/patient.key" }
    public var journal: String { config.state + "/journal.sqlite" }
    /// Output is assembled here, then renamed into place; on the outbox's file system by construction.
    public var outboxTemp: String { config.outbox + "/.tmp" }

    public init(config: DaemonConfig) { self.config = config }

    /// Creates what is missing and checks that all of it is on one file system.
    public func prepare() throws(SpoolError) {
        let folders = config.inboxes.map(\.path) + [config.outbox, config.quarantine, config.archive, config.state,
                                                   work, replayed, runs, outboxTemp]
        for folder in folders {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw SpoolError("cannot create \(folder): \(error.localizedDescription)")
            }
            guard FileStatus.of(folder)?.kind == .directory else { throw SpoolError("\(folder) is not a directory") }
        }
        let devices = Set(folders.compactMap { FileStatus.of($0)?.device })
        guard devices.count == 1 else {
            throw SpoolError("inbox, outbox, quarantine, archive and state must be on one file system (atomic rename)")
        }
    }

    func workFolder(_ job: String) -> String { work + "/" + job }
    func quarantineFolder(_ job: String) -> String { config.quarantine + "/" + job }
    func archiveFolder(_ job: String) -> String { config.archive + "/" + job }

    /// Where a job's original is now: in work while unfinished, in the archive once archived.
    func input(of job: JobRecord) -> String {
        (job.state == .archived ? archiveFolder(job.id) : workFolder(job.id)) + "/" + job.name
    }
}

/// Atomic move of one directory entry; the heart of the spool.
func move(_ from: String, to: String) throws(SpoolError) {
    guard rename(from, to) == 0 else { throw systemError("rename", "\(from) -> \(to)") }
}

/// Removes a file or a tree; absent is fine.
func removeTree(_ path: String) {
    guard FileStatus.of(path) != nil else { return }
    try? FileManager.default.removeItem(atPath: path)
}
