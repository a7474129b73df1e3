import Foundation
import Glibc

/// The daemon: watches the inboxes, takes settled files, runs each job to its end, and talks to systemd.
/// One thread runs the loop; jobs run one at a time between polls, so SIGTERM (acted on between jobs)
/// always lets the job in hand finish, and the journal has a single writer.
public final class Daemon {
    /// Where the configuration came from, so that SIGHUP can read it again the same way.
    public struct Source: Sendable {
        public var configFile: String
        public var spool: String?
        public init(configFile: String, spool: String?) { self.configFile = configFile; self.spool = spool }

        public func load() throws(ConfigError) -> DaemonConfig {
            let config = try ConfigLoader.load(file: configFile)
            return spool.map { config.placingSpool(under: $0) } ?? config
        }
    }

    private let source: Source
    private var config: DaemonConfig
    private let layout: SpoolLayout
    private var log: Logger
    private let notifier: SystemdNotifier
    private let journal: Journal
    private var runner: JobRunner
    private let watcher: InotifyWatcher
    private let signals: SignalPipe
    private var tracker: SettleTracker
    private var lastWatchdog = 0.0
    private var lastStatus = ""
    private var processedCount = 0
    private var quarantinedCount = 0

    public init(source: Source, processor: JobProcessor = IntakeProcessor(), notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.source = source
        config = try source.load()
        layout = SpoolLayout(config: config)
        log = Logger(level: config.logLevel)
        self.notifier = notifier
        try layout.prepare()
        journal = try Journal(path: layout.journal)
        runner = JobRunner(layout: layout, journal: journal, processor: processor, log: log, settings: Self.settings(config))
        watcher = try InotifyWatcher()
        signals = try SignalPipe()
        tracker = SettleTracker(settleSeconds: config.settleSeconds)
    }

    private static func settings(_ config: DaemonConfig) -> JobRunner.RunSettings {
        JobRunner.RunSettings(limits: config.limits, maxAttempts: config.maxAttempts, archiveMode: config.archiveMode)
    }

    /// Runs until SIGTERM or SIGINT. Returns normally after a clean stop.
    public func run() throws(SpoolError) {
        log.log(.info, "starting", ["inboxes": config.inboxes.map(\.name).joined(separator: ","), "state": config.state])
        removeTree(layout.outboxTemp)
        try? FileManager.default.createDirectory(atPath: layout.outboxTemp, withIntermediateDirectories: true)
        try runner.resumeAll()
        rescan()
        notifier.ready(status: statusLine())
        while true {
            let requests = signals.drain()
            if requests.contains(.stop) { break }
            if requests.contains(.reload) { reload() }
            waitForActivity()
            for event in watcher.drain() { handle(event) }
            for path in tracker.due(now: monotonicSeconds()) {
                try process(path)
                heartbeat()  // a long run of due files must not starve the watchdog
                if signals.peekStop() { break }
            }
            heartbeat()
        }
        notifier.stopping()
        log.log(.info, "stopped", ["pending": String(tracker.count)])
    }

    // MARK: loop parts

    private func waitForActivity() {
        var fds = [pollfd(fd: watcher.descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signals.readDescriptor, events: Int16(POLLIN), revents: 0)]
        // Short while files settle; otherwise often enough for the watchdog.
        let idle = min(1.0, notifier.watchdogInterval ?? 1.0)
        let timeout = tracker.isEmpty ? idle : min(idle, max(0.05, config.settleSeconds / 4))
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

    private func process(_ path: String) throws(SpoolError) {
        guard let inbox = config.inboxes.first(where: { path.hasPrefix($0.path + "/") }) else { return }
        guard let job = try runner.take(path, inbox: inbox) else { return }
        try runner.run(job)
        if try journal.job(job.id)?.state == .quarantined { quarantinedCount += 1 } else { processedCount += 1 }
    }

    private func heartbeat() {
        let now = monotonicSeconds()
        if let interval = notifier.watchdogInterval, now - lastWatchdog >= interval {
            notifier.watchdog()
            lastWatchdog = now
        }
        let line = statusLine()
        if line != lastStatus { notifier.status(line); lastStatus = line }
    }

    private func statusLine() -> String {
        "watching \(config.inboxes.count) inbox(es); settling \(tracker.count); processed \(processedCount); quarantined \(quarantinedCount)"
    }

    /// SIGHUP: read the configuration again. Settings that can change live change; a changed spool layout
    /// needs a restart; an invalid file is refused and the running configuration kept.
    private func reload() {
        notifier.reloading()
        do {
            let fresh = try source.load()
            if fresh.sameSpool(as: config) {
                config = fresh
                log = Logger(level: fresh.logLevel)
                tracker.settleSeconds = fresh.settleSeconds
                runner.settings = Self.settings(fresh)
                log.log(.info, "reloaded", ["settle_seconds": String(fresh.settleSeconds), "archive": fresh.archiveMode.rawValue])
            } else {
                log.log(.warning, "reload kept the spool folders; restart to change them", [:])
            }
        } catch {
            log.log(.error, "reload refused; configuration kept", ["error": error.description])
        }
        notifier.ready(status: statusLine())
    }
}
