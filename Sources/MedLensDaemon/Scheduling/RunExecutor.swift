import Foundation
import Glibc
import MedImaging
import MedLensCore

/// One run of a group, as the loop hands it to a worker: every member's input file and what is known about the
/// series. Nothing in it is written to the journal by the worker.
struct RunRequest: Sendable {
    struct Member: Sendable {
        var job: String
        var path: String
        /// Finished in an earlier run (a late image re-runs the series): read again, never quarantined here.
        var earlier: Bool
    }
    var run: String
    var group: String
    var inbox: String
    var members: [Member]
    var verdict: Completeness.Verdict
    var replaces: String?
    var warnings: [String]
    var queuedAt: UInt64
}

/// What a run produced: output sets for the outbox, or why members could not be processed.
struct RunResult: Sendable {
    var request: RunRequest
    var sets: [OutputSet] = []
    /// Members that failed (only members new in this run are listed).
    var failures: [String: JobFailure] = [:]
    /// Models that served the run, for logs and metrics.
    var models: [ModelReference] = []
    var timings: [String: Double] = [:]
    var positives = 0
}

/// Reads a run's files (several files of a series as one volume), routes every volume, and runs the model
/// pipeline. Runs on a worker thread; decoding is gated so that only `decode` runs hold decoded pixels at once.
struct RunExecutor: Sendable {
    let layout: SpoolLayout
    let limits: IntakeLimits
    let router: Router
    let analyzer: ScanAnalyzer
    let registry: ModelRegistry
    let decodeGate: Gate

    func execute(_ request: RunRequest) -> RunResult {
        var result = RunResult(request: request)
        let queueMs = ScanAnalyzer.milliseconds(since: request.queuedAt)
        let started = ScanAnalyzer.now()
        let (scan, fileOfMember) = decodeGate.run { read(request) }
        result.timings = ["queue": queueMs, "read": ScanAnalyzer.milliseconds(since: started)]

        for failure in scan.failures {
            guard let member = fileOfMember[failure.path], !member.earlier else { continue }
            result.failures[member.job] = JobFailure(reason: failure.reason.rawValue, message: failure.message, stage: .read)
        }
        let alive = request.members.filter { result.failures[$0.job] == nil }
        guard !scan.volumes.isEmpty else {
            let failure = JobFailure(reason: scan.failures.first?.reason.rawValue ?? IntakeError.Reason.empty.rawValue,
                                     message: scan.failures.first?.message ?? "nothing could be read", stage: .read)
            for member in alive where !member.earlier { result.failures[member.job] = failure }
            return result
        }

        var held: [String] = [], unavailable: [String] = []
        var documents: [(FindingsDocument, [(name: String, contents: Data)])] = []
        for volume in scan.volumes {
            let context = AnalysisContext(jobID: request.run, files: max(1, volume.metadata.sopInstanceUIDs.count),
                                          completeness: request.verdict.completeness, evidence: request.verdict.evidence,
                                          replaces: request.replaces, timings: result.timings, warnings: request.warnings)
            switch analyzer.analyse(volume, decision: router.route(volume), models: registry.current, context: context) {
            case let .findings(document, overlays): documents.append((document, overlays))
            case .held(let rule): held.append("\(volume.metadata.kind) volume held by rule \(rule)")
            case let .unavailable(models, rule): unavailable.append("rule \(rule): \(models.joined(separator: ", ")) not loaded")
            }
        }
        guard !documents.isEmpty else {
            let failure = unavailable.isEmpty
                ? JobFailure(reason: "held", message: held.joined(separator: "; "), stage: .route)
                : JobFailure(reason: "model_unavailable", message: (unavailable + held).joined(separator: "; "), stage: .route)
            for member in alive where !member.earlier { result.failures[member.job] = failure }
            return result
        }
        for (var document, overlays) in documents {
            document.warnings += held + unavailable
            if !result.failures.isEmpty {
                document.warnings.append("\(result.failures.count) file(s) of this group could not be read and were quarantined")
            }
            result.models += document.models
            result.positives += document.findings.filter(\.positive).count
            for (stage, ms) in document.timings { result.timings[stage] = max(result.timings[stage] ?? 0, ms) }
            guard let data = try? document.encoded() else { continue }
            result.sets.append(OutputSet(studyUID: document.study.studyInstanceUID, seriesUID: document.study.seriesInstanceUID,
                                         files: overlays + [("findings.json", data)]))
        }
        return result
    }

    /// One member is read where it lies; several are hard-linked side by side into `state/runs/<run>/` (one file
    /// system, so links are free) and read as one folder, which assembles the series.
    private func read(_ request: RunRequest) -> (ScanReadResult, [String: RunRequest.Member]) {
        if request.members.count == 1, let member = request.members.first {
            return (ScanReader.read(URL(fileURLWithPath: member.path), limits: limits), [member.path: member])
        }
        let folder = layout.runs + "/" + request.run
        removeTree(folder)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { removeTree(folder) }
        var byPath: [String: RunRequest.Member] = [:]
        for (index, member) in request.members.enumerated() {
            let link = folder + "/\(index)-" + (member.path as NSString).lastPathComponent
            guard Glibc.link(member.path, link) == 0 else { continue }
            byPath[link] = member
        }
        var scan = ScanReader.read(URL(fileURLWithPath: folder), limits: limits)
        // Paths as the reader reports them (standardised) back to members.
        scan.failures = scan.failures.map { failure in
            var f = failure
            f.path = byPath.keys.first { URL(fileURLWithPath: $0).standardizedFileURL.path == URL(fileURLWithPath: failure.path).standardizedFileURL.path } ?? failure.path
            return f
        }
        return (scan, byPath)
    }
}
