import Foundation
import MedLensCore

extension Daemon {
    /// At start: finish every interrupted step from its journalled state. Takings are completed, taken inputs
    /// admitted, runs that were under way started again (same run id, so a result already published is kept),
    /// and collecting series rebuilt from the headers stored with their members.
    func resume() throws(SpoolError) {
        for job in try journal.unfinished() {
            var current = job
            if current.state == .taking {
                log.log(.info, "resuming", ["job": job.id, "state": job.state.rawValue])
                guard let taken = try runner.resumeTaking(current) else { continue }
                current = taken
            }
            queued += 1
            if current.state == .taken || current.groupKey == nil {
                try admit(current)
            }
        }
        try runner.finishInterruptedMoves()
        for group in try journal.groups(in: .running) {
            log.log(.info, "resuming run", ["run": group.run ?? "", "group": group.key])
            collecting[group.key] = nil
            let verdict = group.completeness.flatMap { try? JSONDecoder().decode(Completeness.Verdict.self, from: Data($0.utf8)) }
            try start(group, verdict: verdict ?? Completeness.Verdict(completeness: .partial, evidence: CompletenessEvidence(source: nil, expected: nil, received: 0)),
                      probes: try probes(of: group.key))
        }
        for group in try journal.groups(in: .collecting) where collecting[group.key] == nil {
            collecting[group.key] = Collecting(probes: try probes(of: group.key), lastArrival: group.lastArrival)
        }
    }

    /// Starts runs for complete groups while there is room: at most `workers.inflight` runs and
    /// `workers.memory_bytes` of estimated memory at once (one run always fits, or nothing would ever move).
    func startRuns() throws(SpoolError) {
        guard running.count < config.workers.inflight, !collecting.isEmpty else { return }
        let now = Date()
        for (key, group) in collecting.sorted(by: { $0.value.lastArrival < $1.value.lastArrival }) {
            guard running.count < config.workers.inflight else { return }
            guard let verdict = Completeness.judge(group.probes, quietFor: now.timeIntervalSince(group.lastArrival),
                                                   quietSeconds: config.quietSeconds, single: key.hasPrefix("job:"),
                                                   singleImageModalities: Set(config.singleImageModalities)) else { continue }
            let bytes = group.probes.reduce(0) { $0 + $1.decodedBytes * 3 }
            if !running.isEmpty && running.values.reduce(0, { $0 + $1.bytes }) + bytes > config.workers.memoryBytes { return }
            collecting[key] = nil
            guard let record = try journal.group(key) else { continue }
            try start(record, verdict: verdict, probes: group.probes)
        }
    }

    /// Journals the run, then hands it to a worker.
    func start(_ group: GroupRecord, verdict: Completeness.Verdict, probes: [InputProbe]) throws(SpoolError) {
        var members = try journal.members(of: group.key)
        // A job the daemon died in too often (say, in a decoder) is set aside instead of crashing it again.
        for job in members where !job.state.isFinal && job.attempts >= config.maxAttempts {
            try runner.quarantine(job, JobFailure(reason: "repeated_crash", message: "the daemon stopped during this job \(job.attempts) times", stage: .process))
            finished(job.id, outcome: "quarantined", reason: "repeated_crash")
        }
        members = try journal.members(of: group.key)
        guard members.contains(where: { !$0.state.isFinal }) else {
            let after = try journal.runAbandoned(group)
            if after.state == .collecting { collecting[group.key] = Collecting(probes: try self.probes(of: group.key), lastArrival: after.lastArrival) }
            return
        }
        var warnings: [String] = []
        let present = members.filter { !$0.swept }
        if present.count < members.count {
            warnings.append("\(members.count - present.count) earlier image(s) of this series are no longer in the archive and were left out")
        }
        let run = group.run.flatMap { group.state == .running ? $0 : nil } ?? JobID.make()
        let encoded = String(decoding: (try? JSONEncoder().encode(verdict)) ?? Data("{}".utf8), as: UTF8.self)
        let started = try journal.startRun(group, run: run, members: present.map(\.id), completeness: encoded)
        let request = RunRequest(
            run: run, group: group.key, inbox: present.first?.inbox ?? config.inboxes[0].name,
            members: present.map { RunRequest.Member(job: $0.id, path: layout.input(of: $0), earlier: $0.state.isFinal) },
            verdict: verdict, replaces: started.replaces, warnings: warnings, queuedAt: ScanAnalyzer.now())
        let bytes = probes.reduce(0) { $0 + $1.decodedBytes * 3 }
        running[run] = (request, bytes)
        let executor = RunExecutor(layout: layout, limits: config.limits, router: config.router(for: request.inbox),
                                   analyzer: ScanAnalyzer(settings: pipelineSettings, inference: batcher),
                                   registry: registry, decodeGate: decodeGate)
        let mailbox = self.mailbox
        pool.submit { mailbox.post(.finished(executor.execute(request))) }
        log.log(.debug, "run", ["run": run, "group": group.key, "files": String(present.count)])
    }

    var pipelineSettings: PipelineSettings {
        var settings = config.pipeline
        settings.patientKey = patientKey
        return settings
    }

    func receive(_ message: Message) throws(SpoolError) {
        switch message {
        case .finished(let result): try finish(result)
        case let .loaded(name, version, result): installLoaded(name: name, version: version, result)
        }
    }

    /// A run came back: quarantine what failed, publish the outputs, archive the members.
    func finish(_ result: RunResult) throws(SpoolError) {
        let request = result.request
        running[request.run] = nil
        guard var group = try journal.group(request.group) else { return }
        for (id, failure) in result.failures {
            guard let job = try journal.job(id), !job.state.isFinal else { continue }
            try runner.quarantine(job, failure)
            finished(id, outcome: "quarantined", reason: failure.reason)
        }
        var fresh: [JobRecord] = []
        for member in request.members where !member.earlier {
            if let job = try journal.job(member.job), !job.state.isFinal { fresh.append(job) }
        }
        if !result.sets.isEmpty && !fresh.isEmpty {
            let publisher = OutputPublisher(layout: layout)
            let publishStarted = ScanAnalyzer.now()
            var failure: JobFailure?
            var folders: [String] = []
            do { folders = try publisher.folders(for: result.sets, job: request.run) } catch { failure = error }
            if failure == nil {
                group = try journal.runProcessed(group, outputs: folders)
                do { try publisher.publish(result.sets, to: folders, job: request.run) } catch { failure = error }
            }
            if let failure {
                for job in fresh {
                    try runner.quarantine(job, failure)
                    finished(job.id, outcome: "quarantined", reason: failure.reason)
                }
            } else {
                group = try journal.runPublished(group)
                for job in fresh {
                    if let archived = try journal.job(job.id) { try runner.finishArchive(archived) }
                    finished(job.id, outcome: "archived")
                }
                metrics.stage("publish", milliseconds: ScanAnalyzer.milliseconds(since: publishStarted))
                log.log(.info, "published", ["run": request.run, "outputs": folders.joined(separator: ","), "files": String(request.members.count),
                                             "models": result.models.map { "\($0.name)@\($0.version)" }.joined(separator: ","),
                                             "positive": String(result.positives), "replaces": request.replaces ?? "-"])
            }
        }
        if group.state == .running { group = try journal.runAbandoned(group) }
        for (stage, ms) in result.timings { metrics.stage(stage, milliseconds: ms) }
        if group.state == .collecting {
            collecting[group.key] = Collecting(probes: try probes(of: group.key), lastArrival: group.lastArrival)
        }
    }
}
