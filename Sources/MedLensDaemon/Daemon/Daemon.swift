import Foundation
import Glibc
import MedEngine
import MedLensCore

/// The daemon. One thread runs the loop: it watches the inboxes and the model store, takes settled files, groups
/// them into series, starts runs when a group is complete, and publishes what runs produce. It is the journal's
/// only writer. Runs (decode, preprocess, inference through the batcher, findings) happen on worker threads and
/// come back through a mailbox.
public final class Daemon {
    /// Where the configuration came from, so that SIGHUP can read it again the same way.
    public struct Source: Sendable {
        public var configFile: String
        public var spool: String?
        public var models: String?
        public init(configFile: String, spool: String?, models: String? = nil) {
            self.configFile = configFile; self.spool = spool; self.models = models
        }

        public func load() throws(ConfigError) -> DaemonConfig {
            var config = try ConfigLoader.load(file: configFile)
            if let spool { config = config.placingSpool(under: spool) }
            if let models { config = config.placingModels(at: models) }
            return config
        }
    }

    enum Message {
        case finished(RunResult)
        case loaded(name: String, version: String, Result<LoadedModel, ModelStoreError>)
    }

    /// A group waiting for its images: the members' headers and when the last one arrived.
    struct Collecting {
        var probes: [InputProbe]
        var lastArrival: Date
    }

    private let source: Source
    var config: DaemonConfig
    let layout: SpoolLayout
    var log: Logger
    let notifier: SystemdNotifier
    let journal: Journal
    var runner: JobRunner
    private let watcher: InotifyWatcher
    private let signals: SignalPipe
    private var tracker: SettleTracker
    let mailbox: Mailbox<Message>
    let registry = ModelRegistry()
    let metrics = DaemonMetrics()
    private var metricsServer: MetricsServer?
    var storeWatcher: StoreWatcher?
    let pool: WorkerPool
    let loaders: WorkerPool
    let batcher: Batcher
    let decodeGate: Gate
    let backend: String
    var patientKey: PatientKey

    var collecting: [String: Collecting] = [:]
    /// Runs under way: run id → (request, estimated bytes).
    var running: [String: (request: RunRequest, bytes: Int)] = [:]
    /// Taken inputs not yet archived or quarantined.
    var queued = 0
    var processedCount = 0
    var quarantinedCount = 0
    var lastJob = "none"
    var modelCheckDue: Double?
    var loading = Set<String>()
    private var lastWatchdog = 0.0
    private var lastStatus = ""
    private var lastSweep = 0.0
    private var stopDeadline: Double?

    public init(source: Source, notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.source = source
        config = try source.load()
        layout = SpoolLayout(config: config)
        log = Logger(level: config.logLevel)
        self.notifier = notifier
        if config.threads > 0 { CPUBackend.setThreads(config.threads) }
        CPUBackend.shareOneHeap()  // before the workers below first allocate
        try layout.prepare()
        do {
            let selected = try EngineBackend.install(config.backend, stateFolder: config.state)
            backend = selected.backend.name
            log.log(.info, "backend", ["name": backend, "why": selected.reason])
        } catch {
            throw ConfigError(file: source.configFile, issues: [ConfigIssue(keyPath: "engine.backend", line: nil, message: "\(error)")])
        }
        journal = try Journal(path: layout.journal)
        patientKey = try PatientKeyFile.patientKey(config.patientReference, layout: layout)
        runner = JobRunner(layout: layout, journal: journal, log: log, settings: Self.settings(config))
        watcher = try InotifyWatcher()
        signals = try SignalPipe()
        mailbox = try Mailbox()
        tracker = SettleTracker(settleSeconds: config.settleSeconds)
        pool = WorkerPool(threads: config.workers.inflight, name: "medlensd-run")
        loaders = WorkerPool(threads: 1, name: "medlensd-models")
        decodeGate = Gate(config.workers.decode)
        let metrics = self.metrics
        batcher = Batcher(maxBatch: config.workers.maxBatch, maxWait: config.workers.maxWaitSeconds) { _, size, _ in
            metrics.batch(size: size)
        }
        if config.metricsSocket != nil || config.metricsListen != nil {
            metricsServer = try MetricsServer(socketPath: config.metricsSocket, listen: config.metricsListen) { metrics.text() }
        }
    }

    static func settings(_ config: DaemonConfig) -> JobRunner.RunSettings {
        JobRunner.RunSettings(limits: config.limits, maxAttempts: config.maxAttempts, archiveMode: config.archiveMode,
                              jobMemoryBytes: config.jobMemoryBytes)
    }

    /// Runs until SIGTERM or SIGINT. Returns normally after a clean stop.
    public func run() throws(SpoolError) {
        log.log(.info, "starting", ["inboxes": config.inboxes.map(\.name).joined(separator: ","), "state": config.state,
                                    "models": config.modelStore])
        removeTree(layout.outboxTemp)
        removeTree(layout.runs)
        for folder in [layout.outboxTemp, layout.runs] { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        loadModelsAtStart()
        if let server = metricsServer { log.log(.info, "metrics", ["address": server.address]) }
        try resume()
        rescan()
        notifier.ready(status: statusLine())
        while true {
            let requests = signals.drain()
            if requests.contains(.stop), stopDeadline == nil {
                stopDeadline = monotonicSeconds() + config.stopSeconds
                notifier.stopping()
                log.log(.info, "stopping", ["runs": String(running.count), "settling": String(tracker.count)])
            }
            if let deadline = stopDeadline {
                if running.isEmpty { break }
                if monotonicSeconds() >= deadline {
                    log.log(.warning, "stop deadline: jobs parked for the next start", ["runs": String(running.count)])
                    break
                }
            } else if requests.contains(.reload) {
                reload()
            }
            waitForActivity()
            for event in watcher.drain() { handle(event) }
            if storeWatcher?.drain() == true { modelCheckDue = monotonicSeconds() + 0.2 }
            for message in mailbox.drain() { try receive(message) }
            if let due = modelCheckDue, monotonicSeconds() >= due { checkModels() }
            if stopDeadline == nil {
                try takeDueFiles()
                try startRuns()
            }
            // Every minute, or twice per late window when series originals wait only that long.
            let sweepEvery = config.archiveMode == .delete ? min(60, max(0.5, config.lateSeconds / 2)) : 60
            if monotonicSeconds() - lastSweep >= sweepEvery {
                lastSweep = monotonicSeconds()
                try runner.sweepArchive(retentionDays: config.retentionDays, lateSeconds: config.lateSeconds)
            }
            heartbeat()
        }
        log.log(.info, "stopped", ["pending": String(tracker.count), "parked": String(running.count)])
    }

    // MARK: loop parts

    private func waitForActivity() {
        var fds = [pollfd(fd: watcher.descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signals.readDescriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: mailbox.readDescriptor, events: Int16(POLLIN), revents: 0)]
        if let store = storeWatcher { fds.append(pollfd(fd: store.descriptor, events: Int16(POLLIN), revents: 0)) }
        // Short while files settle or series wait; otherwise often enough for the watchdog.
        let idle = min(1.0, notifier.watchdogInterval ?? 1.0)
        var timeout = tracker.isEmpty ? idle : min(idle, max(0.05, config.settleSeconds / 4))
        if !collecting.isEmpty { timeout = min(timeout, max(0.05, config.quietSeconds / 4)) }
        if stopDeadline != nil { timeout = min(timeout, 0.1) }
        _ = poll(&fds, nfds_t(fds.count), Int32(timeout * 1000))
    }

    private func handle(_ event: WatchEvent) {
        switch event {
        case .candidate(let path), .created(let path):
            if case .created = event, FileStatus.of(path)?.kind == .regular { return }  // wait for its close
            tracker.notice(path, now: monotonicSeconds())
        case .rescan:
            log.log(.info, "rescan", [:])
            rescan()
        }
    }

    /// Watches every inbox afresh and makes every file already there a candidate.
    private func rescan() {
        let now = monotonicSeconds()
        for path in watcher.rewatch(config.inboxes.map(\.path)) { tracker.notice(path, now: now) }
    }

    /// Takes settled files while the queue has room; the rest wait in the inbox (backpressure on producers).
    private func takeDueFiles() throws(SpoolError) {
        let now = monotonicSeconds()
        for path in tracker.due(now: now) {
            guard queued < config.workers.maxQueued else {
                tracker.notice(path, now: now)
                continue
            }
            guard let inbox = config.inboxes.first(where: { path.hasPrefix($0.path + "/") }) else { continue }
            guard let job = try runner.take(path, inbox: inbox) else { continue }
            queued += 1
            try admit(job)
            heartbeat()  // a long run of due files must not starve the watchdog
            if signals.peekStop() { break }
        }
    }

    /// Reads the header of a taken job and files it with its group.
    func admit(_ job: JobRecord) throws(SpoolError) {
        guard let (key, probe) = try runner.admit(job) else {
            finished(job.id, outcome: "quarantined", reason: try journal.job(job.id)?.reason)
            return
        }
        if running.values.contains(where: { $0.request.group == key }) { return }  // journalled as rerun
        if collecting[key] == nil {
            collecting[key] = Collecting(probes: try probes(of: key), lastArrival: Date())
        } else {
            collecting[key]?.probes.append(probe)
            collecting[key]?.lastArrival = Date()
        }
    }

    func probes(of key: String) throws(SpoolError) -> [InputProbe] {
        try journal.members(of: key).compactMap { job in
            job.probe.flatMap { try? JSONDecoder().decode(InputProbe.self, from: Data($0.utf8)) }
        }
    }

    /// One input finished (archived or quarantined).
    func finished(_ job: String, outcome: String, reason: String? = nil) {
        queued = max(0, queued - 1)
        if outcome == "quarantined" { quarantinedCount += 1 } else { processedCount += 1 }
        lastJob = "\(job) \(outcome)"
        metrics.job(outcome: outcome, reason: reason)
    }

    private func heartbeat() {
        let now = monotonicSeconds()
        if let interval = notifier.watchdogInterval, now - lastWatchdog >= interval {
            notifier.watchdog()
            lastWatchdog = now
        }
        metrics.setQueue(depth: tracker.count + queued, inFlight: running.count)
        let line = statusLine()
        if line != lastStatus { notifier.status(line); lastStatus = line }
    }

    func statusLine() -> String {
        let models = registry.all().map { "\($0.name)@\($0.version)" }.joined(separator: ",")
        return "watching \(config.inboxes.count) inbox(es); queue \(tracker.count + queued); running \(running.count); "
            + "processed \(processedCount); quarantined \(quarantinedCount); last \(lastJob); models \(models.isEmpty ? "none" : models)"
    }

    /// SIGHUP: read the configuration again and re-check the models. Settings that can change live change;
    /// a changed spool layout or worker sizes need a restart; an invalid file is refused and the running
    /// configuration kept.
    private func reload() {
        notifier.reloading()
        do {
            let fresh = try source.load()
            if fresh.sameSpool(as: config) {
                if fresh.workers != config.workers || fresh.metricsSocket != config.metricsSocket || fresh.metricsListen != config.metricsListen {
                    log.log(.warning, "reload: [workers] and [metrics] changes need a restart", [:])
                }
                config = fresh
                log = Logger(level: fresh.logLevel)
                runner.log = log
                tracker.settleSeconds = fresh.settleSeconds
                runner.settings = Self.settings(fresh)
                if let key = try? PatientKeyFile.patientKey(fresh.patientReference, layout: layout) { patientKey = key }
                log.log(.info, "reloaded", ["settle_seconds": String(fresh.settleSeconds), "archive": fresh.archiveMode.rawValue,
                                            "routes": String(fresh.router.rules.count)])
            } else {
                log.log(.warning, "reload kept the spool folders; restart to change them", [:])
            }
        } catch {
            log.log(.error, "reload refused; configuration kept", ["error": error.description])
        }
        registry.forgetRefusals()
        checkModels()
        notifier.ready(status: statusLine())
    }
}
