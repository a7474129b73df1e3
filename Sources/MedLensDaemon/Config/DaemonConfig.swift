import Foundation
import MedEngine
import MedImaging
import MedLensCore

/// One watched inbox. Its name labels jobs and, with `--spool`, names its folder under `inbox/`.
public struct InboxConfig: Sendable, Equatable {
    public var name: String
    public var path: String
    /// Models for this inbox's scans that no rule matches, instead of `[routing] fallback`.
    public var fallback: [String]?
    public init(name: String, path: String, fallback: [String]? = nil) { self.name = name; self.path = path; self.fallback = fallback }
}

/// What happens to an original after its outputs are written.
public enum ArchiveMode: String, Sendable, Equatable, CaseIterable {
    case keep
    case delete
}

/// `[output] patient`: how findings name the patient.
public enum PatientReferenceMode: String, Sendable, Equatable, CaseIterable {
    /// HMAC-SHA256 of the patient ID with the spool's key (state/patient.key).
    case hash
    case plain
    case omit
}

/// `[workers]`: the scheduler's sizes.
public struct WorkerConfig: Sendable, Equatable {
    /// Threads that decode and preprocess.
    public var decode = 2
    /// Jobs (series) between decoding and publishing at once; bounds memory with `intake.job_memory_bytes`.
    public var inflight = 4
    /// Samples of one model run as one batch, gathered across jobs.
    public var maxBatch = 8
    /// How long the first sample of a batch waits for others.
    public var maxWaitSeconds = 0.02
    /// Files taken from the inboxes but not yet finished; beyond it files wait in the inbox (backpressure).
    public var maxQueued = 1000
    /// Estimated bytes of every job in flight together.
    public var memoryBytes = 4 << 30
    public init() {}
}

/// The validated daemon configuration (see etc/medlens/medlens.toml for every key and its meaning).
public struct DaemonConfig: Sendable, Equatable {
    public var inboxes: [InboxConfig]
    public var outbox: String
    public var quarantine: String
    public var archive: String
    public var state: String
    public var settleSeconds: Double
    public var maxAttempts: Int
    public var limits: IntakeLimits
    /// Estimated memory of one job, from its header dims before decoding; larger jobs are quarantined as too_large.
    public var jobMemoryBytes: Int
    public var archiveMode: ArchiveMode
    /// Originals in archive/ older than this are deleted (0: kept for ever).
    public var retentionDays: Double
    public var logLevel: LogLevel
    public var router: Router
    /// The model store: models/<name>/<version>/ with a `current` link each.
    public var modelStore: String
    public var backend: BackendPreference
    /// CPU threads for inference (0: every core).
    public var threads: Int
    public var pipeline: PipelineSettings
    public var patientReference: PatientReferenceMode
    /// A series without an announced count is processed after this long without a new image.
    public var quietSeconds: Double
    /// Originals of a series stay in archive/ this long even with archive.mode = "delete", so late images can re-run it.
    public var lateSeconds: Double
    /// Projection modalities whose images stand alone (one image, one result): processed on arrival.
    public var singleImageModalities: [String]
    public var workers: WorkerConfig
    /// Prometheus text metrics: a unix socket path, or a loopback "127.0.0.1:PORT".
    public var metricsSocket: String?
    public var metricsListen: String?
    /// SIGTERM: jobs in hand get this long to finish before they are parked for the next start.
    public var stopSeconds: Double

    public init(inboxes: [InboxConfig], outbox: String, quarantine: String, archive: String, state: String,
                settleSeconds: Double = 2, maxAttempts: Int = 3, limits: IntakeLimits = .default, jobMemoryBytes: Int = 2 << 30,
                archiveMode: ArchiveMode = .keep, retentionDays: Double = 0, logLevel: LogLevel = .info,
                router: Router = Router(rules: []), modelStore: String = "/var/lib/medlens/models", backend: BackendPreference = .auto,
                threads: Int = 0, pipeline: PipelineSettings = PipelineSettings(), patientReference: PatientReferenceMode = .hash,
                quietSeconds: Double = 10, lateSeconds: Double = 3600,
                singleImageModalities: [String] = DaemonConfig.projectionModalities, workers: WorkerConfig = WorkerConfig(),
                metricsSocket: String? = nil, metricsListen: String? = nil, stopSeconds: Double = 45) {
        self.inboxes = inboxes; self.outbox = outbox; self.quarantine = quarantine; self.archive = archive
        self.state = state; self.settleSeconds = settleSeconds; self.maxAttempts = maxAttempts; self.limits = limits
        self.jobMemoryBytes = jobMemoryBytes; self.archiveMode = archiveMode; self.retentionDays = retentionDays
        self.logLevel = logLevel; self.router = router; self.modelStore = modelStore; self.backend = backend
        self.threads = threads; self.pipeline = pipeline; self.patientReference = patientReference
        self.quietSeconds = quietSeconds; self.lateSeconds = lateSeconds; self.singleImageModalities = singleImageModalities
        self.workers = workers
        self.metricsSocket = metricsSocket; self.metricsListen = metricsListen; self.stopSeconds = stopSeconds
    }

    public static let projectionModalities = ["CR", "DX", "MG", "IO", "PX", "XC", "OP"]

    /// `--spool DIR`: every spool folder under DIR, over what the file says. One inbox is `DIR/inbox`;
    /// several are `DIR/inbox/<name>`.
    public func placingSpool(under root: String) -> DaemonConfig {
        var copy = self
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        copy.inboxes = inboxes.count == 1
            ? [InboxConfig(name: inboxes[0].name, path: base + "/inbox", fallback: inboxes[0].fallback)]
            : inboxes.map { InboxConfig(name: $0.name, path: base + "/inbox/" + $0.name, fallback: $0.fallback) }
        copy.outbox = base + "/outbox"
        copy.quarantine = base + "/quarantine"
        copy.archive = base + "/archive"
        copy.state = base + "/state"
        if let socket = metricsSocket, !socket.hasPrefix(base + "/") { copy.metricsSocket = base + "/state/metrics.sock" }
        return copy
    }

    /// `--models DIR`: the model store, over what the file says.
    public func placingModels(at path: String) -> DaemonConfig {
        var copy = self
        copy.modelStore = URL(fileURLWithPath: path).standardizedFileURL.path
        return copy
    }

    /// The router for one inbox: its own fallback, if it has one.
    public func router(for inbox: String) -> Router {
        guard let fallback = inboxes.first(where: { $0.name == inbox })?.fallback else { return router }
        return Router(rules: router.rules, fallback: fallback)
    }

    /// Whether two configurations watch and write the same folders (a reload cannot move them).
    func sameSpool(as other: DaemonConfig) -> Bool {
        inboxes.map(\.path) == other.inboxes.map(\.path) && inboxes.map(\.name) == other.inboxes.map(\.name)
            && outbox == other.outbox && quarantine == other.quarantine && archive == other.archive && state == other.state
    }
}
