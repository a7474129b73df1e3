import Foundation
import Glibc

/// Places a job's outputs in the outbox: each set is written into `outbox/.tmp/<job>-<n>/` and renamed
/// whole to `outbox/<StudyUID>/<SeriesUID>/`, so readers never see a half-written folder. A hidden
/// `.job` file names the job that wrote a folder: publishing again for the same job does nothing
/// (idempotent after a crash), and a newer job for the same series replaces the folder.
struct OutputPublisher {
    static let marker = ".job"
    let layout: SpoolLayout

    /// The outbox folder (relative) of each set. UIDs that fail the DICOM grammar never become paths.
    /// A series split into several volumes (orientations, matrix sizes) gets `<SeriesUID>_2`, `_3`, ... beside it.
    func folders(for sets: [OutputSet], job: String) throws(JobFailure) -> [String] {
        var used = Set<String>()
        return try sets.enumerated().map { index, set throws(JobFailure) in
            var folder: String
            switch (set.studyUID, set.seriesUID) {
            case (nil, nil):
                folder = "unassigned/\(job)-\(index)"
            case let (study, series):
                guard let study = DicomUID(study), let series = DicomUID(series) else {
                    throw JobFailure(reason: "invalid_uid", message: "StudyInstanceUID or SeriesInstanceUID is missing or not a valid DICOM UID", stage: .output)
                }
                folder = "\(study)/\(series)"
            }
            let base = folder
            var n = 1
            while used.contains(folder) { n += 1; folder = "\(base)_\(n)" }
            used.insert(folder)
            return folder
        }
    }

    /// Publishes every set; folders already published by this job are left alone.
    func publish(_ sets: [OutputSet], to folders: [String], job: String) throws(JobFailure) {
        for (index, (set, folder)) in zip(sets, folders).enumerated() {
            let target = layout.config.outbox + "/" + folder
            if owner(of: target) == job { continue }
            let temp = layout.outboxTemp + "/\(job)-\(index)"
            do {
                removeTree(temp)
                try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
                for file in set.files {
                    guard SafeName.component(file.name) == file.name || SafeName.reserved.contains(file.name) else {
                        throw SpoolError("unsafe output file name \(file.name)")
                    }
                    try writeDurably(file.contents, to: temp + "/" + file.name)
                }
                try writeDurably(Data(job.utf8), to: temp + "/" + Self.marker)
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                if FileStatus.of(target) != nil {
                    // The replaced result leaves the outbox first; the new one follows within one rename.
                    let replaced = layout.outboxTemp + "/replaced-\(job)-\(index)"
                    try move(target, to: replaced)
                    try move(temp, to: target)
                    removeTree(replaced)
                } else {
                    try move(temp, to: target)
                }
            } catch {
                removeTree(temp)
                throw JobFailure(reason: "output_failed", message: "\(error)", stage: .output)
            }
        }
    }

    /// The job that published `folder`, if any.
    func owner(of folder: String) -> String? {
        guard let data = FileManager.default.contents(atPath: folder + "/" + Self.marker) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Writes and fsyncs a file, so that a rename that follows never publishes an empty one after power loss.
func writeDurably(_ data: Data, to path: String) throws(SpoolError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { throw systemError("open", path) }
    defer { close(fd) }
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == data.count, fsync(fd) == 0 else { throw systemError("write", path) }
}
